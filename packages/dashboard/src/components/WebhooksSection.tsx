import { useCallback, useEffect, useState } from "react";
import { useApp } from "../app-context.ts";
import { describeError, enc } from "../lib/api.ts";
import { requestPath } from "../lib/router.ts";
import { formatDateTime } from "../lib/time.ts";
import { Link } from "./Link.tsx";

interface Delivery {
  id: string;
  event_type: string;
  target: string;
  url: string;
  subject_id: string;
  status: string;
  attempt_count: number;
  last_error: string | null;
  created_at: string;
  dead_lettered_at: string | null;
}

/** Webhook deliveries (admins): recent ones, and the dead letters with a redrive button. */
export function WebhooksSection() {
  const { api, live, announce } = useApp();
  const [status, setStatus] = useState<"dead" | "pending" | "delivered" | "">("dead");
  const [deliveries, setDeliveries] = useState<Delivery[]>([]);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const q = status ? `?status=${status}&limit=50` : "?limit=50";
      setDeliveries((await api.get<{ data: Delivery[] }>(`/v1/webhooks/deliveries${q}`)).data);
    } catch (e) {
      setError(describeError(e));
    }
  }, [api, status]);
  useEffect(() => {
    void load();
    return live.onEvent((e) => {
      if (e.kind.startsWith("webhook.")) void load();
    });
  }, [load, live]);

  const redrive = async (d: Delivery) => {
    setError(null);
    try {
      await api.post(`/v1/webhooks/deliveries/${enc(d.id)}/redrive`);
      announce(`Delivery ${d.id} is being sent again`);
      await load();
    } catch (e) {
      setError(describeError(e));
    }
  };

  return (
    <section className="card" aria-labelledby="webhooks-title">
      <h2 id="webhooks-title">Webhook deliveries</h2>
      <label htmlFor="wh-status">Show</label>{" "}
      <select id="wh-status" value={status} onChange={(e) => setStatus(e.target.value as typeof status)}>
        <option value="dead">Dead letters</option>
        <option value="pending">Being retried</option>
        <option value="delivered">Delivered</option>
        <option value="">All</option>
      </select>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {deliveries.length === 0 ? (
        <p className="muted">{status === "dead" ? "No dead letters." : "No deliveries."}</p>
      ) : (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Deliveries</caption>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">To</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {deliveries.map((d) => (
                <tr key={d.id}>
                  <td>
                    <code>{d.event_type}</code>
                    <br />
                    {d.subject_id.startsWith("req_") ? (
                      <Link href={requestPath(d.subject_id)}>{d.subject_id}</Link>
                    ) : (
                      d.subject_id
                    )}
                  </td>
                  <td className="wrap">{d.url}</td>
                  <td>
                    {d.status}
                    {d.last_error && <span className="muted small"> — {d.last_error}</span>}
                    <br />
                    <span className="muted small">{formatDateTime(d.dead_lettered_at ?? d.created_at)}</span>
                  </td>
                  <td>{d.attempt_count}</td>
                  <td>
                    {(d.status === "dead" || d.status === "aborted") && (
                      <button type="button" onClick={() => void redrive(d)}>
                        Redrive
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
