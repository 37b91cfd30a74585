import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";

/** Dashboard sign-in: people (accounts), the invites that create them, and their browser sessions. */
export interface AccountsTable {
  /** usr_… */
  id: string;
  /** Lower-cased; what a person signs in with. */
  email: string;
  name: string | null;
  role: string;
  /** The key record that makes the account a principal like any key (never usable as a bearer key). */
  key_id: string;
  /** `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>` */
  password_hash: string;
  password_set_at: string;
  created_at: string;
  created_by: string | null;
  disabled_at: string | null;
}

export interface InvitesTable {
  /** inv_… */
  id: string;
  email: string;
  name: string | null;
  role: string;
  /** SHA-256 of the one-time token; the token itself is shown once, in the invite link. */
  token_hash: string;
  created_at: string;
  created_by: string;
  expires_at: string;
  accepted_at: string | null;
  account_id: string | null;
  revoked_at: string | null;
}

export interface SessionsTable {
  /** ses_… (not a secret: it names the session in lists and revocations) */
  id: string;
  account_id: string;
  /** SHA-256 of the cookie's token. */
  token_hash: string;
  created_at: string;
  last_seen_at: string;
  /** Absolute expiry; the idle expiry is last_seen_at plus the idle timeout. */
  expires_at: string;
  revoked_at: string | null;
  ip: string | null;
  user_agent: string | null;
}

declare module "../schema.ts" {
  interface Database {
    accounts: AccountsTable;
    invites: InvitesTable;
    sessions: SessionsTable;
  }
}

/** Migrations of the dashboard feature, merged into the ordered list in ../migrations.ts. */
export const dashboardMigrations: Record<string, Migration> = {
  "0005_dashboard": {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("accounts")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("email", "text", (c) => c.notNull().unique())
        .addColumn("name", "text")
        .addColumn("role", "text", (c) => c.notNull())
        .addColumn("key_id", "text", (c) => c.notNull().unique())
        .addColumn("password_hash", "text", (c) => c.notNull())
        .addColumn("password_set_at", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("created_by", "text")
        .addColumn("disabled_at", "text")
        .execute();

      await db.schema
        .createTable("invites")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("email", "text", (c) => c.notNull())
        .addColumn("name", "text")
        .addColumn("role", "text", (c) => c.notNull())
        .addColumn("token_hash", "text", (c) => c.notNull().unique())
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("created_by", "text", (c) => c.notNull())
        .addColumn("expires_at", "text", (c) => c.notNull())
        .addColumn("accepted_at", "text")
        .addColumn("account_id", "text")
        .addColumn("revoked_at", "text")
        .execute();

      await db.schema
        .createTable("sessions")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("account_id", "text", (c) => c.notNull())
        .addColumn("token_hash", "text", (c) => c.notNull().unique())
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("last_seen_at", "text", (c) => c.notNull())
        .addColumn("expires_at", "text", (c) => c.notNull())
        .addColumn("revoked_at", "text")
        .addColumn("ip", "text")
        .addColumn("user_agent", "text")
        .execute();
      await db.schema.createIndex("sessions_account").on("sessions").columns(["account_id", "id"]).execute();
      await db.schema.createIndex("sessions_expiry").on("sessions").columns(["expires_at"]).execute();
    },
  },
};
