import type { Migration } from "kysely/migration";

/** Migrations of the dashboard feature, merged into the ordered list in ../migrations.ts. */
export const dashboardMigrations: Record<string, Migration> = {};
