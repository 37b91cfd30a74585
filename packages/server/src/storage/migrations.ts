import { GENESIS_HASH } from "@countersign/core";
import { type Kysely, sql } from "kysely";
import { type Migration, type MigrationProvider, Migrator } from "kysely/migration";

/**
 * Migrations live in code and run on start. Each is written once with Kysely's schema builder so
 * the same definition produces valid DDL for SQLite and PostgreSQL. Never edit a landed migration:
 * add a new one.
 */
const migrations: Record<string, Migration> = {
  "0001_foundation": {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("keys")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("role", "text", (c) => c.notNull())
        .addColumn("secret_hash", "text", (c) => c.notNull().unique())
        .addColumn("hint", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("created_by", "text")
        .addColumn("revoked_at", "text")
        .execute();

      await db.schema
        .createTable("requests")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("type", "text", (c) => c.notNull())
        .addColumn("priority", "text", (c) => c.notNull())
        .addColumn("correlation_id", "text", (c) => c.notNull())
        .addColumn("created_by_key_id", "text", (c) => c.notNull())
        .addColumn("external_request_id", "text")
        .addColumn("expires_at", "text")
        .addColumn("roles", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("updated_at", "text", (c) => c.notNull())
        .addColumn("doc", "text", (c) => c.notNull())
        .addUniqueConstraint("requests_external_id_unique", ["created_by_key_id", "external_request_id"])
        .execute();
      await db.schema.createIndex("requests_status_id").on("requests").columns(["status", "id"]).execute();
      await db.schema
        .createIndex("requests_correlation")
        .on("requests")
        .columns(["correlation_id", "id"])
        .execute();
      await db.schema
        .createIndex("requests_creator")
        .on("requests")
        .columns(["created_by_key_id", "id"])
        .execute();
      await db.schema
        .createIndex("requests_pending_expiry")
        .on("requests")
        .columns(["expires_at"])
        .where(sql.ref("status"), "=", "pending")
        .execute();

      await db.schema
        .createTable("reviews")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("request_id", "text", (c) => c.notNull())
        .addColumn("reviewer_key_id", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("doc", "text", (c) => c.notNull())
        .addUniqueConstraint("reviews_one_per_reviewer", ["request_id", "reviewer_key_id"])
        .execute();

      await db.schema
        .createTable("actions")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("correlation_id", "text", (c) => c.notNull())
        .addColumn("created_by_key_id", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("doc", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("actions_correlation")
        .on("actions")
        .columns(["correlation_id", "id"])
        .execute();

      await db.schema
        .createTable("audit")
        .addColumn("seq", "bigint", (c) => c.primaryKey())
        .addColumn("at", "text", (c) => c.notNull())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("subject_id", "text", (c) => c.notNull())
        .addColumn("correlation_id", "text")
        .addColumn("owner_key_id", "text")
        .addColumn("actor", "text", (c) => c.notNull())
        .addColumn("data", "text", (c) => c.notNull())
        .addColumn("prev_hash", "text", (c) => c.notNull())
        .addColumn("hash", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("audit_correlation")
        .on("audit")
        .columns(["correlation_id", "seq"])
        .execute();
      await db.schema.createIndex("audit_subject").on("audit").columns(["subject_id", "seq"]).execute();

      // One row that every appender locks: it serialises the chain across replicas on PostgreSQL and
      // lets `audit verify` detect a truncated tail (the head must match the last row).
      await db.schema
        .createTable("audit_head")
        .addColumn("id", "integer", (c) => c.primaryKey())
        .addColumn("seq", "bigint", (c) => c.notNull())
        .addColumn("hash", "text", (c) => c.notNull())
        .execute();
      await sql`insert into audit_head (id, seq, hash) values (1, 0, ${GENESIS_HASH})`.execute(db);

      await db.schema
        .createTable("settings")
        .addColumn("name", "text", (c) => c.primaryKey())
        .addColumn("value", "text", (c) => c.notNull())
        .addColumn("updated_at", "text", (c) => c.notNull())
        .execute();
    },
  },
};

class CodeMigrationProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations;
  }
}

export async function migrateToLatest(db: Kysely<unknown>): Promise<void> {
  const migrator = new Migrator({ db, provider: new CodeMigrationProvider() });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === "Error");
  if (error || failed) {
    const reason = error instanceof Error ? error.message : String(error ?? failed?.migrationName);
    throw new Error(`database migration failed: ${reason}`);
  }
}
