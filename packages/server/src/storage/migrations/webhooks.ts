import type { Migration } from "kysely/migration";

/** Migrations of the webhooks feature, merged into the ordered list in ../migrations.ts. */
export const webhooksMigrations: Record<string, Migration> = {};
