import type { Migration } from "kysely/migration";

/** Migrations of the reviewers feature, merged into the ordered list in ../migrations.ts. */
export const reviewersMigrations: Record<string, Migration> = {};
