import type { ApprovalRequest, AuditEntry, Principal } from "@countersign/core";
import { DomainError, NotFoundError } from "@countersign/core";
import { getAuditHead } from "../repos/audit-repo.ts";
import type { Executor } from "../repos/executor.ts";
import { RequestLinks } from "../services/request-visibility.ts";
import type { RequestsService } from "../services/requests-service.ts";
import { AUDIT_SUBJECT, type Store } from "../storage/store.ts";
import { auditEntryViewFor } from "../webhooks/agent-view.ts";

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
  /** Re-checked every heartbeat interval, however busy the stream: a revoked key or ended session closes it. */
  stillValid(): Promise<boolean>;
}

const BATCH = 500;

export const DEFAULT_MAX_STREAMS_PER_CALLER = 20;
export const DEFAULT_MAX_STREAMS = 2000;

/** Past the caps on open event streams (per caller, or in all). */
export class TooManyStreamsError extends DomainError {
  readonly status = 429;
  readonly code = "too_many_streams";
  override readonly retryable = true;
}

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
  private readonly maxStreamsPerCaller: number;
  private readonly maxStreams: number;
  private readonly inflight = new Map<number, Promise<StreamEntry[]>>();
  /** Open streams per caller key, and in all (this process). */
  private readonly open = new Map<string, number>();
  private openTotal = 0;

  constructor(
    store: Store,
    requests: RequestsService,
    options: { heartbeatMs: number; maxStreamsPerCaller?: number; maxStreams?: number },
  ) {
    this.store = store;
    this.requests = requests;
    this.heartbeatMs = options.heartbeatMs;
    this.maxStreamsPerCaller = options.maxStreamsPerCaller ?? DEFAULT_MAX_STREAMS_PER_CALLER;
    this.maxStreams = options.maxStreams ?? DEFAULT_MAX_STREAMS;
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

  /**
   * The events of a batch this principal may see, each request read once per batch. An entry
   * related to a request the caller may not see (see request-visibility.ts) is hidden with it.
   */
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
    // Admins may see every request: only the one an entry is about is read, to attach it.
    const links = by.role === "admin" ? undefined : new RequestLinks(this.store.db, entries);
    const out: StreamEvent[] = [];
    for (const entry of entries) {
      const { owner_key_id: owner, ...event } = entry;
      if (by.role === "agent" && owner !== by.key_id) continue;
      if (by.role === "reviewer" && !REVIEWER_KINDS.test(entry.kind)) continue;
      const subject = entry.subject_id.startsWith("req_") ? [entry.subject_id] : [];
      const related = links ? await links.of(entry) : subject;
      // Unknown relations are hidden; so is everything about a request the caller may not see.
      if (!related) continue;
      let hidden = false;
      let request: ApprovalRequest | undefined;
      for (const id of related) {
        const found = await requestFor(id);
        if (!found) {
          hidden = true;
          break;
        }
        if (id === entry.subject_id) request = found;
      }
      if (hidden) continue;
      const shown = auditEntryViewFor(by, event);
      out.push(request ? { ...shown, request } : shown);
    }
    return out;
  }

  /**
   * Counts a stream against the caps on open streams, per caller (key: a person's sessions share
   * their account's) and in all; refuses with 429 past either. Call the returned function once the
   * stream has closed.
   */
  admit(by: Principal): () => void {
    const mine = this.open.get(by.key_id) ?? 0;
    if (mine >= this.maxStreamsPerCaller) {
      throw new TooManyStreamsError(
        `this caller already has ${mine} open event streams (at most ${this.maxStreamsPerCaller}); close one first`,
      );
    }
    if (this.openTotal >= this.maxStreams) {
      throw new TooManyStreamsError(
        `the server already has ${this.openTotal} open event streams (at most ${this.maxStreams}); try again later`,
      );
    }
    this.open.set(by.key_id, mine + 1);
    this.openTotal++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.openTotal--;
      const left = (this.open.get(by.key_id) ?? 1) - 1;
      if (left > 0) this.open.set(by.key_id, left);
      else this.open.delete(by.key_id);
    };
  }

  /**
   * Streams events after `afterSeq` (the head when undefined) until the sink is aborted or its
   * credential is no longer valid. The credential is re-checked every heartbeat interval whatever
   * the traffic, and before each send when the last check is older than that: a busy stream never
   * idles long enough for a heartbeat, and must still end once its key is revoked.
   */
  async run(by: Principal, afterSeq: number | undefined, sink: StreamSink): Promise<void> {
    let wake: (() => void) | undefined;
    let signalled = false;
    const unsubscribe = this.store.changes.subscribe(AUDIT_SUBJECT, () => {
      signalled = true;
      wake?.();
    });
    const credential = new CredentialCheck(sink, this.heartbeatMs, () => wake?.());
    try {
      const head = await this.head();
      const resumed = afterSeq !== undefined;
      // An id beyond the head names entries that do not exist (a restored database): start at the head.
      let last = Math.min(afterSeq ?? head, head);
      await sink.send(
        `retry: 2000\nevent: ready\nid: ${last}\ndata: ${JSON.stringify({ seq: last, resumed })}\n\n`,
      );
      while (!sink.signal.aborted) {
        if (!(await credential.valid())) {
          await sink.send(END_UNAUTHORIZED);
          return;
        }
        signalled = false;
        const entries = await this.read(last);
        const lastEntry = entries[entries.length - 1];
        if (lastEntry) {
          const events = await this.visible(by, entries);
          let chunk = events.map(sseEvent).join("");
          // Move the client's Last-Event-ID past entries it may not see, without dispatching anything.
          if (events[events.length - 1]?.seq !== lastEntry.seq) chunk += `id: ${lastEntry.seq}\n\n`;
          last = lastEntry.seq;
          if (!(await credential.valid())) {
            await sink.send(END_UNAUTHORIZED);
            return;
          }
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
        if (!(await credential.valid())) {
          await sink.send(END_UNAUTHORIZED);
          return;
        }
        await sink.send(": heartbeat\n\n");
      }
    } finally {
      credential.stop();
      unsubscribe();
    }
  }
}

const END_UNAUTHORIZED = 'event: end\ndata: {"reason":"unauthorized"}\n\n';

/**
 * A stream's credential, re-checked on a timer every `intervalMs` regardless of traffic. `valid()`
 * answers from the last check while it is fresh, and checks again (one check at a time) when it is
 * not. A failed check wakes the stream so it can end at once.
 */
class CredentialCheck {
  private readonly sink: Pick<StreamSink, "stillValid">;
  private readonly intervalMs: number;
  private readonly onInvalid: () => void;
  private readonly timer: NodeJS.Timeout;
  /** The caller was authenticated just before the stream opened. */
  private checkedAt = performance.now();
  private ok = true;
  private pending: Promise<boolean> | undefined;

  constructor(sink: Pick<StreamSink, "stillValid">, intervalMs: number, onInvalid: () => void) {
    this.sink = sink;
    this.intervalMs = intervalMs;
    this.onInvalid = onInvalid;
    // A failed read here is not a verdict: the next `valid()` finds the check stale and retries it.
    this.timer = setInterval(() => this.check().catch(() => {}), intervalMs);
    this.timer.unref();
  }

  async valid(): Promise<boolean> {
    if (!this.ok) return false;
    if (performance.now() - this.checkedAt < this.intervalMs) return true;
    return this.check();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private check(): Promise<boolean> {
    this.pending ??= this.sink
      .stillValid()
      .then((ok) => {
        this.checkedAt = performance.now();
        if (!ok && this.ok) {
          this.ok = false;
          this.onInvalid();
        }
        return this.ok;
      })
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }
}
