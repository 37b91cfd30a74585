import type { Kysely, Transaction } from "kysely";
import type { Database } from "../storage/schema.ts";

/** Repositories run the same queries inside a write transaction or on the read connection. */
export type Executor = Kysely<Database> | Transaction<Database>;

/** Is this a unique-constraint violation, on either engine? */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const e = error as { code?: unknown; errcode?: unknown; message?: unknown };
  if (e.code === "23505") return true; // PostgreSQL unique_violation
  const message = typeof e.message === "string" ? e.message : "";
  return message.includes("UNIQUE constraint failed");
}
