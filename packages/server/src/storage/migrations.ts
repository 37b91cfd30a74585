import { GENESIS_HASH } from "@countersign/core";
import { type Kysely, sql } from "kysely";
import { type Migration, type MigrationProvider, Migrator } from "kysely/migration";
import { dashboardMigrations } from "./migrations/dashboard.ts";
import { leanWritesMigrations } from "./migrations/lean-writes.ts";
import { reviewersMigrations } from "./migrations/reviewers.ts";
import { signInFailuresMigrations } from "./migrations/sign-in-failures.ts";
import { webhooksMigrations } from "./migrations/webhooks.ts";

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
  "0002_governance": {
    async up(db: Kysely<unknown>) {
      // The policy versions ever put in force; `settings.active_policy` names the current one.
      await db.schema
        .createTable("policies")
        .addColumn("version", "text", (c) => c.primaryKey())
        .addColumn("source", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("created_by", "text")
        .execute();

      // Per-run usage for budgets, keyed by the verified agent key and the run id it reports.
      await db.schema
        .createTable("runs")
        .addColumn("agent_key_id", "text", (c) => c.notNull())
        .addColumn("run_id", "text", (c) => c.notNull())
        .addColumn("first_call_at", "text", (c) => c.notNull())
        .addColumn("steps", "integer", (c) => c.notNull())
        .addColumn("tool_calls", "integer", (c) => c.notNull())
        .addColumn("usd", "double precision", (c) => c.notNull())
        .addColumn("budget_extensions", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("updated_at", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("runs_pk", ["agent_key_id", "run_id"])
        .execute();

      await db.schema
        .createTable("governed_calls")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("agent_key_id", "text", (c) => c.notNull())
        .addColumn("run_id", "text", (c) => c.notNull())
        .addColumn("call_id", "text")
        .addColumn("decision", "text", (c) => c.notNull())
        .addColumn("request_id", "text")
        .addColumn("correlation_id", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("doc", "text", (c) => c.notNull())
        .addUniqueConstraint("governed_calls_idempotency", ["agent_key_id", "run_id", "call_id"])
        .execute();
      await db.schema
        .createIndex("governed_calls_correlation")
        .on("governed_calls")
        .columns(["correlation_id", "id"])
        .execute();

      await db.schema
        .createTable("kill_switches")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("scope", "text", (c) => c.notNull())
        .addColumn("agent", "text")
        .addColumn("run_id", "text")
        .addColumn("active", "integer", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("doc", "text", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("kill_switches_active").on("kill_switches").columns(["active"]).execute();

      await db.schema
        .createTable("grants")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("active", "integer", (c) => c.notNull())
        .addColumn("uses", "integer", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("doc", "text", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("grants_active").on("grants").columns(["active"]).execute();

      // Ed25519 keys that sign approval tokens (and evidence); retired keys stay published.
      await db.schema
        .createTable("signing_keys")
        .addColumn("kid", "text", (c) => c.primaryKey())
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("retired_at", "text")
        .addColumn("record", "text", (c) => c.notNull())
        .execute();

      // One row per consumed approval token: the primary key makes consumption single-use.
      await db.schema
        .createTable("token_uses")
        .addColumn("jti", "text", (c) => c.primaryKey())
        .addColumn("request_id", "text", (c) => c.notNull())
        .addColumn("consumed_at", "text", (c) => c.notNull())
        .addColumn("consumed_by", "text", (c) => c.notNull())
        .addColumn("executed_args_hash", "text", (c) => c.notNull())
        .execute();
    },
  },
  // Feature migrations keep their own files; names start with their number, so order is stable.
  ...webhooksMigrations,
  ...reviewersMigrations,
  ...dashboardMigrations,
  // Integrations (HumanLayer call ids) find requests by external id without knowing the creator.
  "0006_requests_external_id": {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createIndex("requests_external_request_id")
        .on("requests")
        .column("external_request_id")
        .execute();
    },
  },
  // The expiry and escalation sweeps run every second. With only partial indexes on the due time,
  // SQLite's planner preferred (status, id) and scanned every pending request; a composite index
  // answers "pending and due" with one range on both engines.
  "0007_due_indexes": {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createIndex("requests_status_expires")
        .on("requests")
        .columns(["status", "expires_at"])
        .execute();
      await db.schema
        .createIndex("requests_status_escalate")
        .on("requests")
        .columns(["status", "escalate_at"])
        .execute();
      await db.schema.dropIndex("requests_pending_expiry").execute();
      await db.schema.dropIndex("requests_pending_escalation").execute();
    },
  },
  ...leanWritesMigrations,
  ...signInFailuresMigrations,
};

class CodeMigrationProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations;
  }
}

/**
 * Applies pending migrations. On PostgreSQL pass the schema the tables live in: Kysely otherwise
 * looks for its bookkeeping tables in every schema and can mistake another schema's for ours.
 */
export async function migrateToLatest(db: Kysely<unknown>, schema?: string): Promise<void> {
  await migrateTo(db, undefined, schema);
}

/** Applies migrations up to and including `target` (all of them when undefined); tests of upgrades use it. */
export async function migrateTo(
  db: Kysely<unknown>,
  target: string | undefined,
  schema?: string,
): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: new CodeMigrationProvider(),
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error, results } = target ? await migrator.migrateTo(target) : await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === "Error");
  if (error || failed) {
    const reason = error instanceof Error ? error.message : String(error ?? failed?.migrationName);
    throw new Error(`database migration failed: ${reason}`);
  }
}
