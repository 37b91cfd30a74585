import { useEffect, useMemo, useState } from "react";
import { useApp, useNow } from "../app-context.ts";
import { StatusBadge } from "../components/Badges.tsx";
import { Link } from "../components/Link.tsx";
import { requestHeadline } from "../components/RequestList.tsx";
import { SafeText } from "../components/SafeText.tsx";
import { describeError, enc } from "../lib/api.ts";
import { requestPath } from "../lib/router.ts";
import { formatAgo, formatDateTime } from "../lib/time.ts";
import { timelineItems } from "../lib/timeline.ts";
import type { CaseView } from "../lib/types.ts";

/** Everything under one correlation id, in the order it happened, kept live. */
export function CasePage({ correlationId }: { correlationId: string }) {
  const { api, live } = useApp();
  const now = useNow();
  const [view, setView] = useState<CaseView | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    const load = () =>
      api
        .get<CaseView>(`/v1/cases/${enc(correlationId)}`)
        .then((v) => !cancelled && setView(v))
        .catch((e) => !cancelled && setError(describeError(e)));
    void load();
    const off = live.onEvent((event) => {
      if (event.correlation_id === correlationId) void load();
    });
    return () => {
      cancelled = true;
      off();
    };
  }, [api, live, correlationId]);

  const items = useMemo(() => {
    if (!view) return [];
    const calls = new Map<string, string>();
    for (const r of view.requests) if (r.governance) calls.set(r.id, r.governance.governed_call_id);
    return timelineItems(view.timeline, calls);
  }, [view]);
  return (
    <div className="page">
      <h1 tabIndex={-1}>
        Case <code>{correlationId}</code>
      </h1>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {view && (
        <>
          <section aria-labelledby="case-requests">
            <h2 id="case-requests">Requests ({view.requests.length})</h2>
            {view.requests.length === 0 ? (
              <p className="muted">No requests in this case.</p>
            ) : (
              <ul className="plain">
                {view.requests.map((r) => (
                  <li key={r.id}>
                    <StatusBadge status={r.status} />{" "}
                    <Link href={requestPath(r.id)}>
                      <SafeText text={requestHeadline(r)} />
                    </Link>
                  </li>
                ))}
              </ul>
            )}
          </section>
          <section aria-labelledby="case-timeline">
            <h2 id="case-timeline">Timeline ({items.length})</h2>
            <ol className="timeline">
              {items.map((item) => (
                <li
                  key={item.seq}
                  id={item.anchor ?? undefined}
                  className={`tl tl-${item.kind.split(".")[0]}`}
                >
                  <time dateTime={item.at} title={formatDateTime(item.at)}>
                    {formatAgo(item.at, now)}
                  </time>
                  <div>
                    <strong>
                      <SafeText text={item.title} />
                    </strong>
                    {item.detail && (
                      <p className="tl-detail">
                        <SafeText text={item.detail} />
                      </p>
                    )}
                    <p className="muted small">
                      {item.who} · <code>{item.kind}</code> · #{item.seq}
                      {item.links.map((l) => (
                        <span key={l.href}>
                          {" "}
                          · <Link href={l.href}>{l.label}</Link>
                        </span>
                      ))}
                    </p>
                  </div>
                </li>
              ))}
            </ol>
          </section>
        </>
      )}
    </div>
  );
}
