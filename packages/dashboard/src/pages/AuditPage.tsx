import { useCallback, useEffect, useState } from "react";
import { useApp } from "../app-context.ts";
import { Link } from "../components/Link.tsx";
import { SafeText } from "../components/SafeText.tsx";
import { describeError } from "../lib/api.ts";
import { casePath, requestPath } from "../lib/router.ts";
import { formatDateTime } from "../lib/time.ts";
import type { AuditEntry } from "../lib/types.ts";

const PAGE = 50;

type Verdict =
  | { ok: true; entries: number; head_hash: string }
  | { ok: false; entries: number; first_broken_seq: number; reason: string };

/** The audit log, newest page first, with the hash chain verified end to end. */
export function AuditPage() {
  const { api, me, live } = useApp();
  const [verdict, setVerdict] = useState<Verdict | null>(null);
  const [checking, setChecking] = useState(false);
  const [after, setAfter] = useState<number | null>(null);
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [error, setError] = useState<string | null>(null);

  const verify = useCallback(async () => {
    setChecking(true);
    try {
      const v = await api.get<Verdict>("/v1/audit/verify");
      setVerdict(v);
      return v;
    } catch (e) {
      setError(describeError(e));
      return null;
    } finally {
      setChecking(false);
    }
  }, [api]);

  // Start at the newest page: the verified chain's length is the head's seq.
  useEffect(() => {
    void verify().then((v) => setAfter(Math.max(0, (v?.entries ?? 0) - PAGE)));
  }, [verify]);

  useEffect(() => {
    if (after === null) return;
    api
      .get<{ data: AuditEntry[] }>(`/v1/audit?after_seq=${after}&limit=${PAGE}`)
      .then((page) => setEntries([...page.data].reverse()))
      .catch((e) => setError(describeError(e)));
  }, [api, after]);

  // New entries appear on the newest page as they are appended.
  const [head, setHead] = useState(0);
  useEffect(() => live.onEvent((e) => setHead((h) => Math.max(h, e.seq))), [live]);
  const newest = verdict ? Math.max(verdict.entries, head) : head;
  const onNewest = after !== null && after + PAGE >= newest;
  useEffect(() => {
    if (onNewest && head > 0) setAfter(Math.max(0, head - PAGE));
  }, [head, onNewest]);

  if (me.principal.role !== "admin") {
    return (
      <div className="page">
        <h1 tabIndex={-1}>Audit log</h1>
        <p>Only admins can read the whole audit log. Each request's case shows its own history.</p>
      </div>
    );
  }
  const first = entries[entries.length - 1]?.seq;
  const last = entries[0]?.seq;
  return (
    <div className="page">
      <h1 tabIndex={-1}>Audit log</h1>
      <section aria-labelledby="chain" className={`chain ${verdict ? (verdict.ok ? "ok" : "broken") : ""}`}>
        <h2 id="chain">Hash chain</h2>
        {verdict === null ? (
          <p>{checking ? "Verifying…" : "Not verified yet."}</p>
        ) : verdict.ok ? (
          <p>
            ✓ Verified: all {verdict.entries} entries chain correctly; head{" "}
            <code>{verdict.head_hash.slice(0, 16)}…</code>
          </p>
        ) : (
          <p role="alert">
            ✗ Broken at entry #{verdict.first_broken_seq}: {verdict.reason}
          </p>
        )}
        <button type="button" onClick={() => void verify()} disabled={checking}>
          {checking ? "Verifying…" : "Verify again"}
        </button>
      </section>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <nav className="pager" aria-label="Audit pages">
        <button
          type="button"
          disabled={after === null || onNewest}
          onClick={() => setAfter(Math.max(0, newest - PAGE))}
        >
          Newest
        </button>
        <button
          type="button"
          disabled={after === null || onNewest}
          onClick={() => setAfter((a) => (a ?? 0) + PAGE)}
        >
          Newer
        </button>
        <span>{first !== undefined && last !== undefined ? `#${first}–#${last} of ${newest}` : ""}</span>
        <button type="button" disabled={!after} onClick={() => setAfter((a) => Math.max(0, (a ?? 0) - PAGE))}>
          Older
        </button>
        <button type="button" disabled={!after} onClick={() => setAfter(0)}>
          Oldest
        </button>
      </nav>
      <div className="table-wrap">
        <table className="audit">
          <caption className="visually-hidden">Audit entries, newest first</caption>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">When</th>
              <th scope="col">What</th>
              <th scope="col">Who</th>
              <th scope="col">About</th>
              <th scope="col">Hash</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.seq}>
                <td>{e.seq}</td>
                <td>
                  <time dateTime={e.at}>{formatDateTime(e.at)}</time>
                </td>
                <td>
                  <code>{e.kind}</code>
                  <details>
                    <summary>data</summary>
                    <pre className="block code small">
                      <SafeText text={JSON.stringify(e.data, null, 2)} />
                    </pre>
                  </details>
                </td>
                <td>
                  {e.actor.name ?? e.actor.type}
                  {e.actor.role && <span className="muted"> ({e.actor.role})</span>}
                </td>
                <td>
                  {e.subject_id.startsWith("req_") ? (
                    <Link href={requestPath(e.subject_id)}>
                      <code>{e.subject_id}</code>
                    </Link>
                  ) : (
                    <code>{e.subject_id}</code>
                  )}
                  {e.correlation_id && (
                    <>
                      <br />
                      case <Link href={casePath(e.correlation_id)}>{e.correlation_id}</Link>
                    </>
                  )}
                </td>
                <td>
                  <code title={e.hash}>{e.hash.slice(0, 10)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
