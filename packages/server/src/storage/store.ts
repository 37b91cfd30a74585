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
 * The one storage interface. Reads go through `db`; every change goes through `write`, whose
 * promise settles only after the change is durably committed. Concurrent writes are batched into
 * shared commits (group commit); a unit that throws is rolled back alone, the others commit.
 */
export interface Store {
  readonly dialect: Dialect;
  readonly db: Kysely<Database>;
  readonly changes: ChangeBus;
  write<T>(unit: (ctx: WriteContext) => Promise<T>): Promise<T>;
  /** Checks the database answers (for /readyz). */
  ping(): Promise<void>;
  close(): Promise<void>;
  readonly stats: { batches: number; units: number };
}
