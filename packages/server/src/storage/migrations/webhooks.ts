import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";

/** Migrations of the webhooks feature, merged into the ordered list in ../migrations.ts. */
export const webhooksMigrations: Record<string, Migration> = {
  "0003_webhooks": {
    async up(db: Kysely<unknown>) {
      // Registered endpoints. `secrets` holds the signing material, encrypted (see webhooks/secrets.ts):
      // the server must sign with it, so unlike API keys it cannot be stored as a hash.
      await db.schema
        .createTable("webhook_endpoints")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("url", "text", (c) => c.notNull())
        .addColumn("events", "text", (c) => c.notNull())
        .addColumn("description", "text")
        .addColumn("signing", "text", (c) => c.notNull())
        .addColumn("secrets", "text", (c) => c.notNull())
        .addColumn("active", "integer", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("created_by", "text")
        .addColumn("updated_at", "text", (c) => c.notNull())
        .addColumn("deleted_at", "text")
        .execute();
      await db.schema
        .createIndex("webhook_endpoints_active")
        .on("webhook_endpoints")
        .column("active")
        .execute();

      // One row per event, written in the transaction of the change it reports: the exact body every
      // target receives, so retries and redrives send the same bytes under the same webhook-id.
      await db.schema
        .createTable("webhook_messages")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("event_type", "text", (c) => c.notNull())
        .addColumn("audit_seq", "bigint", (c) => c.notNull())
        .addColumn("subject_id", "text", (c) => c.notNull())
        .addColumn("correlation_id", "text")
        .addColumn("body", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .execute();

      // The outbox proper: one row per (message, target), claimed by workers with a lease.
      await db.schema
        .createTable("webhook_deliveries")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("message_id", "text", (c) => c.notNull())
        .addColumn("target_key", "text", (c) => c.notNull())
        .addColumn("target", "text", (c) => c.notNull())
        .addColumn("endpoint_id", "text")
        .addColumn("url", "text", (c) => c.notNull())
        .addColumn("event_type", "text", (c) => c.notNull())
        .addColumn("subject_id", "text", (c) => c.notNull())
        .addColumn("correlation_id", "text")
        .addColumn("owner_key_id", "text")
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("attempt_count", "integer", (c) => c.notNull())
        .addColumn("cycle_attempts", "integer", (c) => c.notNull())
        .addColumn("next_attempt_at", "text")
        .addColumn("locked_until", "text")
        .addColumn("lease_token", "text")
        .addColumn("last_error", "text")
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("updated_at", "text", (c) => c.notNull())
        .addColumn("delivered_at", "text")
        .addColumn("dead_lettered_at", "text")
        .addUniqueConstraint("webhook_deliveries_once", ["message_id", "target_key"])
        .execute();
      await db.schema
        .createIndex("webhook_deliveries_due")
        .on("webhook_deliveries")
        .columns(["status", "next_attempt_at"])
        .execute();
      await db.schema
        .createIndex("webhook_deliveries_status_id")
        .on("webhook_deliveries")
        .columns(["status", "id"])
        .execute();
      await db.schema
        .createIndex("webhook_deliveries_endpoint")
        .on("webhook_deliveries")
        .columns(["endpoint_id", "status"])
        .execute();
      await db.schema
        .createIndex("webhook_deliveries_subject")
        .on("webhook_deliveries")
        .columns(["subject_id", "id"])
        .execute();

      // Every attempt, kept: what the receiver answered, or why nothing was sent.
      await db.schema
        .createTable("webhook_attempts")
        .addColumn("delivery_id", "text", (c) => c.notNull())
        .addColumn("attempt", "integer", (c) => c.notNull())
        .addColumn("at", "text", (c) => c.notNull())
        .addColumn("duration_ms", "integer", (c) => c.notNull())
        .addColumn("outcome", "text", (c) => c.notNull())
        .addColumn("status_code", "integer")
        .addColumn("error", "text")
        .addColumn("response", "text")
        .addPrimaryKeyConstraint("webhook_attempts_pk", ["delivery_id", "attempt"])
        .execute();
    },
  },
};
