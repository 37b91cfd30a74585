import { type Kysely, sql } from "kysely";
import type { Migration } from "kysely/migration";

/** Migrations of the reviewers feature, merged into the ordered list in ../migrations.ts. */
export const reviewersMigrations: Record<string, Migration> = {
  "0004_reviewers": {
    async up(db: Kysely<unknown>) {
      // Reviewers are stored whole (`doc`); `roles_index` holds every role a reviewer holds or
      // covers as `|finance|sre|`, so routing loads only the reviewers a request can use.
      await db.schema
        .createTable("reviewers")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("name", "text", (c) => c.notNull())
        // One person per key: the key a reviewer responds with maps back to exactly one record.
        .addColumn("key_id", "text", (c) => c.unique())
        .addColumn("roles_index", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("updated_at", "text", (c) => c.notNull())
        .addColumn("doc", "text", (c) => c.notNull())
        .execute();

      // When a pending request next escalates. A column (not only in `doc`) so the sweep finds due
      // rows by index, and so a restart knows exactly what is still to fire.
      await db.schema.alterTable("requests").addColumn("escalate_at", "text").execute();
      await db.schema
        .createIndex("requests_pending_escalation")
        .on("requests")
        .columns(["escalate_at"])
        .where(sql.ref("status"), "=", "pending")
        .execute();
    },
  },
};
