import { useEffect, useState } from "react";
import { useApp } from "../app-context.ts";
import { describeError } from "../lib/api.ts";
import { formatDateTime } from "../lib/time.ts";

interface Reviewer {
  id: string;
  name: string;
  roles: string[];
  timezone: string;
}

interface Capacity {
  role: string;
  reviewers: Array<{ id: string; name: string }>;
  count: number;
}

interface ControlMap {
  on_shift_capacity: Capacity[];
  fallback_reviewers: Capacity[];
  next_shift_change: string | null;
}

/** Who is on shift now, per role, as routing sees it (asked through the Control Map). */
export function OnShiftSection() {
  const { api } = useApp();
  const [reviewers, setReviewers] = useState<Reviewer[] | null>(null);
  const [map, setMap] = useState<ControlMap | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    (async () => {
      const list = (await api.get<{ data: Reviewer[] }>("/v1/reviewers?limit=200")).data;
      setReviewers(list);
      const roles = [...new Set(list.flatMap((r) => r.roles))].sort();
      if (roles.length === 0) return;
      setMap(
        await api.post<ControlMap>("/v1/requests/control-map", {
          approval_requirements: { required_roles: roles, required_approvals: 1 },
        }),
      );
    })().catch((e) => setError(describeError(e)));
  }, [api]);

  return (
    <section className="card" aria-labelledby="shift-title">
      <h2 id="shift-title">On shift now</h2>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {reviewers?.length === 0 && <p className="muted">No reviewers are set up for routing yet.</p>}
      {map && (
        <>
          <ul className="plain">
            {map.on_shift_capacity.map((c) => (
              <li key={c.role}>
                <strong>{c.role}</strong>:{" "}
                {c.count === 0 ? (
                  <span className="badge warn">nobody on shift</span>
                ) : (
                  c.reviewers.map((r) => r.name).join(", ")
                )}
              </li>
            ))}
          </ul>
          {map.next_shift_change && (
            <p className="muted small">Next change: {formatDateTime(map.next_shift_change)}</p>
          )}
        </>
      )}
    </section>
  );
}
