import { type Kysely, SqliteAdapter, sql } from "kysely";
import type { Migration } from "kysely/migration";

/**
 * Leaner writes on the hot path: every index is one more B-tree to update (and one more dirty page
 * to write at commit) for each governed call and each audit entry.
 */
export const leanWritesMigrations: Record<string, Migration> = {
  "0008_lean_writes": {
    async up(db: Kysely<unknown>) {
      // No query reads governed calls by correlation (cases are built from requests, actions and
      // the audit log), yet every governed call paid for this index.
      await db.schema.dropIndex("governed_calls_correlation").execute();
      if (db.getExecutor().adapter instanceof SqliteAdapter) await auditSeqAsRowid(db);
    },
  },
};

/**
 * On SQLite a `bigint primary key` is a separate unique index beside the table's own rowid; an
 * `integer primary key` *is* the rowid. Rebuilding the table that way drops one B-tree from every
 * audit append and turns lookups by seq into rowid lookups. PostgreSQL has no rowid: unchanged.
 */
async function auditSeqAsRowid(db: Kysely<unknown>): Promise<void> {
  await sql`create table audit_by_rowid (
    seq integer primary key,
    at text not null,
    kind text not null,
    subject_id text not null,
    correlation_id text,
    owner_key_id text,
    actor text not null,
    data text not null,
    prev_hash text not null,
    hash text not null
  )`.execute(db);
  await sql`insert into audit_by_rowid (seq, at, kind, subject_id, correlation_id, owner_key_id, actor, data, prev_hash, hash)
    select seq, at, kind, subject_id, correlation_id, owner_key_id, actor, data, prev_hash, hash from audit order by seq`.execute(
    db,
  );
  await sql`drop table audit`.execute(db);
  await sql`alter table audit_by_rowid rename to audit`.execute(db);
  await db.schema.createIndex("audit_correlation").on("audit").columns(["correlation_id", "seq"]).execute();
  await db.schema.createIndex("audit_subject").on("audit").columns(["subject_id", "seq"]).execute();
}
