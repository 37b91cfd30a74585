import type { ApprovalRequest, AuditEntry, Principal } from "@countersign/core";
import { NotFoundError } from "@countersign/core";
import { getAuditHead } from "../repos/audit-repo.ts";
import type { Executor } from "../repos/executor.ts";
import type { RequestsService } from "../services/requests-service.ts";
import { AUDIT_SUBJECT, type Store } from "../storage/store.ts";

/** An audit entry with the agent key that owns its subject (what agents are allowed to see). */
export interface StreamEntry extends AuditEntry {
  owner_key_id: string | null;
}

/** One event as sent: the audit entry, plus the request's current state when it is about a request. */
export interface StreamEvent extends AuditEntry {
  request?: ApprovalRequest;
}

/** Where a stream writes; resolves once the chunk is handed to the socket (back-pressure). */
export interface StreamSink {
  send(chunk: string): Promise<void>;
  /** Aborted when the client goes away or the server shuts down. */
  signal: AbortSignal;
  /** Re-checked at each heartbeat: a revoked key or ended session closes the stream. */
  stillValid(): Promise<boolean>;
}

const BATCH = 500;

/** What reviewers see besides requests they may see: the governance and activity around them. */
const REVIEWER_KINDS = /^(request|review|govern|action|kill_switch|policy|grant)\./;

async function listAuditAfter(db: Executor, afterSeq: number, limit: number): Promise<StreamEntry[]> {
  const rows = await db
    .selectFrom("audit")
    .selectAll()
    .where("seq", ">", afterSeq)
    .orderBy("seq")
    .limit(limit)
    .execute();
  return rows.map((row) => ({
    seq: Number(row.seq),
    at: row.at,
    kind: row.kind,
    subject_id: row.subject_id,
    correlation_id: row.correlation_id,
    owner_key_id: row.owner_key_id,
    actor: JSON.parse(row.actor),
    data: JSON.parse(row.data),
    prev_hash: row.prev_hash,
    hash: row.hash,
  }));
}

/** The request an entry is about, if any: its subject, or the request a governed call parked. */
function requestIdOf(entry: AuditEntry): string | undefined {
  if (entry.subject_id.startsWith("req_")) return entry.subject_id;
  const linked = entry.data.request_id;
  return typeof linked === "string" && linked.startsWith("req_") ? linked : undefined;
}

export function sseEvent(event: StreamEvent): string {
  // JSON has no raw newlines, so one `data:` line carries the whole event.
  return `id: ${event.seq}\ndata: ${JSON.stringify(event)}\n\n`;
}

/**
 * `GET /v1/events`: the audit log as a live stream of server-sent events, filtered to what the
 * caller may see. Event ids are audit sequence numbers, so `Last-Event-ID` resumes exactly where a
 * stream broke off. Streams sleep until the change bus says a commit appended entries (in-process,
 * or NOTIFY from another replica) and never poll; streams at the same position share one read.
 */
export class EventsService {
  private readonly store: Store;
  private readonly requests: RequestsService;
  private readonly heartbeatMs: number;
  private readonly inflight = new Map<number, Promise<StreamEntry[]>>();

  constructor(store: Store, requests: RequestsService, options: { heartbeatMs: number }) {
    this.store = store;
    this.requests = requests;
    this.heartbeatMs = options.heartbeatMs;
  }

  async head(): Promise<number> {
    return (await getAuditHead(this.store.db)).seq;
  }

  private read(afterSeq: number): Promise<StreamEntry[]> {
    let pending = this.inflight.get(afterSeq);
    if (!pending) {
      pending = listAuditAfter(this.store.db, afterSeq, BATCH).finally(() => this.inflight.delete(afterSeq));
      this.inflight.set(afterSeq, pending);
    }
    return pending;
  }

  /** The events of a batch this principal may see, each request read once per batch. */
  async visible(by: Principal, entries: StreamEntry[]): Promise<StreamEvent[]> {
    const requests = new Map<string, Promise<ApprovalRequest | null>>();
    const requestFor = (id: string) => {
      let found = requests.get(id);
      if (!found) {
        found = this.requests.get(by, id).catch((error: unknown) => {
          if (error instanceof NotFoundError) return null;
          throw error;
        });
        requests.set(id, found);
      }
      return found;
    };
    const out: StreamEvent[] = [];
    for (const entry of entries) {
      const { owner_key_id: owner, ...event } = entry;
      if (by.role === "agent" && owner !== by.key_id) continue;
      if (by.role === "reviewer" && !REVIEWER_KINDS.test(entry.kind)) continue;
      const requestId = requestIdOf(entry);
      if (requestId) {
        const request = await requestFor(requestId);
        // A request the caller may not see hides everything about it, governed call included.
        if (!request) continue;
        if (entry.subject_id === requestId) {
          out.push({ ...event, request });
          continue;
        }
      }
      out.push(event);
    }
    return out;
  }

  /** Streams events after `afterSeq` (the head when undefined) until the sink is aborted or invalid. */
  async run(by: Principal, afterSeq: number | undefined, sink: StreamSink): Promise<void> {
    let wake: (() => void) | undefined;
    let signalled = false;
    const unsubscribe = this.store.changes.subscribe(AUDIT_SUBJECT, () => {
      signalled = true;
      wake?.();
    });
    try {
      const head = await this.head();
      const resumed = afterSeq !== undefined;
      // An id beyond the head names entries that do not exist (a restored database): start at the head.
      let last = Math.min(afterSeq ?? head, head);
      await sink.send(
        `retry: 2000\nevent: ready\nid: ${last}\ndata: ${JSON.stringify({ seq: last, resumed })}\n\n`,
      );
      while (!sink.signal.aborted) {
        signalled = false;
        const entries = await this.read(last);
        const lastEntry = entries[entries.length - 1];
        if (lastEntry) {
          const events = await this.visible(by, entries);
          let chunk = events.map(sseEvent).join("");
          // Move the client's Last-Event-ID past entries it may not see, without dispatching anything.
          if (events[events.length - 1]?.seq !== lastEntry.seq) chunk += `id: ${lastEntry.seq}\n\n`;
          last = lastEntry.seq;
          await sink.send(chunk);
          continue;
        }
        if (signalled) continue;
        const woken = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => done(false), this.heartbeatMs);
          const onAbort = () => done(true);
          sink.signal.addEventListener("abort", onAbort, { once: true });
          function done(byEvent: boolean) {
            clearTimeout(timer);
            sink.signal.removeEventListener("abort", onAbort);
            wake = undefined;
            resolve(byEvent);
          }
          wake = () => done(true);
        });
        if (woken || sink.signal.aborted) continue;
        if (!(await sink.stillValid())) {
          await sink.send('event: end\ndata: {"reason":"unauthorized"}\n\n');
          return;
        }
        await sink.send(": heartbeat\n\n");
      }
    } finally {
      unsubscribe();
    }
  }
}
