import type { AuditDraft, AuditEntry } from "@countersign/core";
import type { Kysely, Transaction } from "kysely";
import type { ChangeBus } from "./change-bus.ts";
import type { Database } from "./schema.ts";

export type Dialect = "sqlite" | "postgres";

/** What a unit of work may do inside a (possibly shared) durable transaction. */
export interface WriteContext {
  readonly db: Transaction<Database>;
  readonly dialect: Dialect;
  /** Chains and inserts audit entries in this transaction; returns them with seq and hash. */
  appendAudit(drafts: AuditDraft[], ownerKeyId?: string | null): Promise<AuditEntry[]>;
  /** Announce after commit (in-process and, on PostgreSQL, to every replica) that a subject changed. */
  changed(subjectId: string): void;
  /** Runs once the unit's changes are durably committed; never if they roll back. */
  afterCommit(fn: () => void): void;
}

/**
 * Called inside the transaction that appends audit entries, after they are inserted. Features that
 * must commit together with a state change (webhook outbox rows, for instance) hook in here: what
 * they write commits or rolls back with the change itself.
 */
export type AuditListener = (ctx: WriteContext, entries: AuditEntry[]) => Promise<void>;

/** Change-bus subject published after every commit that appended audit entries. */
export const AUDIT_SUBJECT = "audit:appended";

/**
 * The one storage interface. Reads go through `db`; every change goes through `write`, whose
 * promise settles only after the change is durably committed. Concurrent writes are batched into
 * shared commits (group commit); a unit that throws is rolled back alone, the others commit.
 *
 * A unit may run more than once: when a neighbour in its batch throws, the batch is rolled back
 * and run again with a savepoint per unit. So a unit keeps its effects in the transaction, or
 * defers them with `afterCommit`, and never changes anything else while it runs.
 */
export interface Store {
  readonly dialect: Dialect;
  readonly db: Kysely<Database>;
  readonly changes: ChangeBus;
  write<T>(unit: (ctx: WriteContext) => Promise<T>): Promise<T>;
  /** Registers a listener run in-transaction for every batch of appended audit entries. */
  onAppend(listener: AuditListener): () => void;
  /** Checks the database answers (for /readyz). */
  ping(): Promise<void>;
  close(): Promise<void>;
  readonly stats: { batches: number; units: number };
}
