import { type AuditDraft, type AuditEntry, chainEntry, UnavailableError } from "@countersign/core";
import { type Kysely, sql, type Transaction } from "kysely";
import { QueryTemplate, runSynchronously, type SyncExecute } from "../repos/query-template.ts";
import { ChangeBus } from "./change-bus.ts";
import type { AuditTable, Database } from "./schema.ts";
import { AUDIT_SUBJECT, type AuditListener, type Dialect, type Store, type WriteContext } from "./store.ts";

// Every commit touches the chain head and every audited change inserts entries: keep them prebuilt.
const selectHead = new QueryTemplate<never>((db) =>
  db.selectFrom("audit_head").select(["seq", "hash"]).where("id", "=", 1),
);
const selectHeadForUpdate = new QueryTemplate<never>((db) =>
  db.selectFrom("audit_head").select(["seq", "hash"]).where("id", "=", 1).forUpdate(),
);
const updateHead = new QueryTemplate<"seq" | "hash">((db, p) =>
  db
    .updateTable("audit_head")
    .set({ seq: p.seq as unknown as number, hash: p.hash })
    .where("id", "=", 1),
);
const insertAudit = new QueryTemplate<keyof AuditTable>((db, p) =>
  db.insertInto("audit").values({
    seq: p.seq as unknown as number,
    at: p.at,
    kind: p.kind,
    subject_id: p.subject_id,
    correlation_id: p.correlation_id,
    owner_key_id: p.owner_key_id,
    actor: p.actor,
    data: p.data,
    prev_hash: p.prev_hash,
    hash: p.hash,
  }),
);

type Outcome = { ok: true; value: unknown; after: Array<() => void> } | { ok: false; error: unknown };

/** What a committed batch yields: each unit's outcome, in order, and the subjects it changed. */
interface Committed {
  outcomes: Outcome[];
  changed: Set<string>;
}

/** Thrown to abandon an optimistic (savepoint-free) batch after one of its units failed. */
class RetryWithSavepoints extends Error {}

interface PendingUnit {
  run: (ctx: WriteContext) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export interface GroupCommitOptions {
  dialect: Dialect;
  /** Connection used for writes (on SQLite: the single writer connection). */
  writer: Kysely<Database>;
  /** Connection(s) used for reads; on SQLite a second connection so reads never wait for a commit. */
  reader: Kysely<Database>;
  /** Batch concurrent units into shared commits. Off only for benchmarks that measure the difference. */
  groupCommit?: boolean;
  maxBatch?: number;
  /** Sends cross-replica change signals inside the transaction (PostgreSQL NOTIFY). */
  notify?: (trx: Transaction<Database>, subjectIds: string[]) => Promise<void>;
  onClose?: () => Promise<void>;
  changes?: ChangeBus;
  /** A synchronous driver's way to run the transaction's prebuilt queries directly (SQLite). */
  executeInTransaction?: SyncExecute;
  /**
   * Makes what COMMIT wrote durable, when COMMIT itself does not wait for the disk (SQLite, see
   * WalSync); a batch's callers settle only once it resolves, and the next batch starts after it.
   */
  syncCommitted?: () => Promise<void>;
}

/**
 * Shared implementation of the storage interface over Kysely. Both adapters use it; they differ only
 * in how they open connections, how the audit head is locked, and how change signals cross processes.
 *
 * Group commit: units submitted while a commit is in flight queue up and are committed together in
 * the next transaction; one failing unit rolls back alone. Every caller's promise settles only once
 * the transaction is on disk: after COMMIT returned (PostgreSQL) or after the sync that follows it
 * (SQLite). Waiting for that sync before the next batch, rather than committing it meanwhile, was
 * measured faster: requests queue up behind the sync, so batches are larger and commits fewer.
 */
export class GroupCommitStore implements Store {
  readonly dialect: Dialect;
  readonly db: Kysely<Database>;
  readonly changes: ChangeBus;
  readonly stats = { batches: 0, units: 0 };
  private readonly writer: Kysely<Database>;
  private readonly options: GroupCommitOptions;
  private queue: PendingUnit[] = [];
  private readonly listeners = new Set<AuditListener>();
  private flushing = false;
  private closed = false;
  private closing: Promise<void> | undefined;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => {};
  /** Set when a sync failed: what the disk holds is unknown, so nothing more is written. */
  private failed: Error | undefined;

  constructor(options: GroupCommitOptions) {
    this.options = options;
    this.dialect = options.dialect;
    this.writer = options.writer;
    this.db = options.reader;
    this.changes = options.changes ?? new ChangeBus();
  }

  write<T>(unit: (ctx: WriteContext) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new UnavailableError("the store is shutting down"));
    if (this.failed) return Promise.reject(this.failed);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run: unit, resolve: resolve as (v: unknown) => void, reject });
      if (!this.flushing) {
        this.flushing = true;
        this.idle = new Promise((r) => {
          this.markIdle = r;
        });
        // Let every request already parsed in this turn of the event loop join the first batch.
        setImmediate(() => void this.flushLoop());
      }
    });
  }

  onAppend(listener: AuditListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async ping(): Promise<void> {
    if (this.failed) throw this.failed;
    await sql`select 1`.execute(this.db);
  }

  /** Idempotent: a second call waits for the first (connections and files are closed once). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      // Graceful shutdown: writes already accepted are committed and synced before the connections close.
      await this.idle;
      await this.options.onClose?.();
    })();
    return this.closing;
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const max = this.options.groupCommit === false ? 1 : (this.options.maxBatch ?? 256);
        const batch = this.queue.splice(0, max);
        await this.commitBatch(batch);
      }
    } finally {
      this.flushing = false;
      this.markIdle();
    }
  }

  private async commitBatch(batch: PendingUnit[]): Promise<void> {
    let committed: Committed;
    try {
      // Optimistic first: the units of a batch almost always all succeed, and a savepoint around
      // each one is not free (SQLite copies every page a unit touches into a sub-journal first,
      // which made each insert several times slower). If any unit throws, the whole transaction is
      // rolled back and the batch runs again with a savepoint per unit, so the others still commit.
      // (A batch of one needs no retry: its unit's error fails it either way.)
      committed = await this.runBatch(batch, false).catch((error: unknown) => {
        if (error instanceof RetryWithSavepoints) return this.runBatch(batch, true);
        throw error;
      });
    } catch (error) {
      // The shared transaction failed as a whole (a single unit threw, or COMMIT failed).
      const failure = batch.length === 1 ? error : toUnavailable(error);
      for (const unit of batch) unit.reject(failure);
      return;
    }
    this.stats.batches++;
    this.stats.units += batch.length;
    if (this.options.syncCommitted) {
      try {
        await this.options.syncCommitted();
      } catch (error) {
        this.failed = new UnavailableError(
          `a commit could not be made durable (${error instanceof Error ? error.message : String(error)}); ` +
            "no further writes are accepted: restart the server",
        );
        for (const unit of batch) unit.reject(this.failed);
        return;
      }
    }
    this.settle(batch, committed);
  }

  /** Hands each unit its outcome, runs after-commit hooks and announces what changed. */
  private settle(batch: PendingUnit[], committed: Committed): void {
    const { outcomes, changed } = committed;
    batch.forEach((unit, i) => {
      const outcome = outcomes[i];
      if (!outcome) {
        unit.reject(new Error("unit outcome missing"));
      } else if (outcome.ok) {
        for (const fn of outcome.after) runSafely(fn);
        unit.resolve(outcome.value);
      } else {
        unit.reject(outcome.error);
      }
    });
    for (const id of changed) this.changes.publish(id);
  }

  /**
   * Runs the batch in one transaction and commits it. With savepoints, a failing unit is rolled
   * back alone and its error kept as its outcome. Without, the first failing unit of a batch of
   * several rolls back the whole transaction by throwing RetryWithSavepoints (run it again with
   * savepoints): units may run more than once, which is why they keep their side effects in the
   * transaction or `afterCommit`.
   */
  private async runBatch(batch: PendingUnit[], useSavepoints: boolean): Promise<Committed> {
    const outcomes: Outcome[] = [];
    const changed = new Set<string>();
    await this.writer.transaction().execute(async (trx) => {
      const direct = this.options.executeInTransaction;
      const release = direct ? runSynchronously(trx, direct) : undefined;
      try {
        await this.runUnits(trx, batch, useSavepoints, changed, outcomes);
      } finally {
        release?.();
      }
    });
    return { outcomes, changed };
  }

  private async runUnits(
    trx: Transaction<Database>,
    batch: PendingUnit[],
    useSavepoints: boolean,
    changed: Set<string>,
    outcomes: Outcome[],
  ): Promise<void> {
    const head = await this.lockHead(trx);
    for (const unit of batch) {
      const before = { ...head };
      const after: Array<() => void> = [];
      const unitChanged: string[] = [];
      const ctx = this.context(trx, head, after, unitChanged);
      if (useSavepoints) await sql`savepoint cs_unit`.execute(trx);
      try {
        const value = await unit.run(ctx);
        if (useSavepoints) await sql`release savepoint cs_unit`.execute(trx);
        outcomes.push({ ok: true, value, after });
        for (const id of unitChanged) changed.add(id);
      } catch (error) {
        if (!useSavepoints) throw batch.length > 1 ? new RetryWithSavepoints() : error;
        await sql`rollback to savepoint cs_unit`.execute(trx);
        await sql`release savepoint cs_unit`.execute(trx);
        head.seq = before.seq;
        head.hash = before.hash;
        outcomes.push({ ok: false, error });
      }
    }
    if (head.dirty) await updateHead.execute(trx, { seq: head.seq, hash: head.hash });
    if (changed.size > 0 && this.options.notify) await this.options.notify(trx, [...changed]);
  }

  private async lockHead(trx: Transaction<Database>): Promise<{ seq: number; hash: string; dirty: boolean }> {
    // On PostgreSQL the row lock serialises appenders across replicas so the chain stays single.
    const query = this.dialect === "postgres" ? selectHeadForUpdate : selectHead;
    const [row] = await query.execute<{ seq: number; hash: string }>(trx, {});
    if (!row) throw new Error("the audit head row is missing");
    return { seq: Number(row.seq), hash: row.hash, dirty: false };
  }

  private context(
    trx: Transaction<Database>,
    head: { seq: number; hash: string; dirty: boolean },
    after: Array<() => void>,
    changed: string[],
  ): WriteContext {
    const ctx: WriteContext = {
      db: trx,
      dialect: this.dialect,
      afterCommit: (fn) => after.push(fn),
      changed: (id) => changed.push(id),
      appendAudit: async (drafts: AuditDraft[], ownerKeyId?: string | null): Promise<AuditEntry[]> => {
        const entries: AuditEntry[] = [];
        for (const draft of drafts) {
          const entry = chainEntry(head, draft);
          head.seq = entry.seq;
          head.hash = entry.hash;
          head.dirty = true;
          entries.push(entry);
        }
        for (const e of entries) {
          await insertAudit.execute(trx, {
            seq: e.seq,
            at: e.at,
            kind: e.kind,
            subject_id: e.subject_id,
            correlation_id: e.correlation_id,
            owner_key_id: ownerKeyId ?? null,
            actor: JSON.stringify(e.actor),
            data: JSON.stringify(e.data),
            prev_hash: e.prev_hash,
            hash: e.hash,
          });
        }
        if (entries.length > 0) {
          changed.push(AUDIT_SUBJECT);
          for (const listener of this.listeners) await listener(ctx, entries);
        }
        return entries;
      },
    };
    return ctx;
  }
}

function runSafely(fn: () => void): void {
  try {
    fn();
  } catch {
    // After-commit hooks only wake waiters; a failing hook must not turn a committed write into an error.
  }
}

function toUnavailable(error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  return new UnavailableError(`the write could not be committed: ${message}`);
}
