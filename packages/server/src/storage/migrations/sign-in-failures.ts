import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";

/**
 * Failed sign-ins counted in the database, so that every replica shares one count per account (and
 * per trusted browser): kept in each process's memory, N replicas allowed N times the guesses.
 */
export interface SignInFailuresTable {
  /** `account:<email>` or `device:<account id> <device token>`. */
  key: string;
  /** When the current counting window opened. */
  window_start: string;
  failures: number;
}

declare module "../schema.ts" {
  interface Database {
    sign_in_failures: SignInFailuresTable;
  }
}

export const signInFailuresMigrations: Record<string, Migration> = {
  "0009_sign_in_failures": {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("sign_in_failures")
        .addColumn("key", "text", (c) => c.primaryKey())
        .addColumn("window_start", "text", (c) => c.notNull())
        .addColumn("failures", "integer", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("sign_in_failures_window")
        .on("sign_in_failures")
        .column("window_start")
        .execute();
    },
  },
};
