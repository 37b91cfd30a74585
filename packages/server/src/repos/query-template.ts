import { type Compilable, CompiledQuery, type Kysely } from "kysely";
import type { Database } from "../storage/schema.ts";
import type { Executor } from "./executor.ts";

const MARK = "\u0000cs-param:";

/** Runs compiled SQL at once on a synchronous connection and returns its rows (none for writes). */
export type SyncExecute = (sql: string, parameters: readonly unknown[]) => unknown[];

// Executors whose statements may skip Kysely's asynchronous connection handling: the SQLite
// writer's open transactions, registered by the group commit for as long as each one lasts.
const syncExecutors = new WeakMap<object, SyncExecute>();

/**
 * Lets templates run directly on `execute` while `db` is in use. SQLite's driver is synchronous
 * underneath, yet every query through Kysely still took several promise hops and allocations to
 * acquire the (single, already held) connection; on the write path that was a measurable share of
 * each request. Only for a transaction whose units run one at a time, as the group commit's do.
 */
export function runSynchronously(db: object, execute: SyncExecute): () => void {
  syncExecutors.set(db, execute);
  return () => syncExecutors.delete(db);
}

/**
 * A query built with Kysely once, then re-run with new parameters without rebuilding or
 * recompiling it. On the hot path (authenticate, create, append audit) building and compiling the
 * same query tree for every request cost more CPU than executing it; the SQL text stays Kysely's
 * own, for whichever dialect the executor speaks.
 *
 * The builder receives named placeholders; each compiled parameter is mapped back to its name, so
 * parameter order is whatever Kysely chose.
 */
export class QueryTemplate<Name extends string> {
  private readonly build: (db: Kysely<Database>, p: Record<Name, string>) => Compilable;
  private readonly compiled = new WeakMap<
    object,
    { sql: string; slots: Array<Name | { literal: unknown }> }
  >();

  constructor(build: (db: Kysely<Database>, p: Record<Name, string>) => Compilable) {
    this.build = build;
  }

  async execute<Row>(db: Executor, values: Record<Name, unknown>): Promise<Row[]> {
    const plan = this.plan(db);
    const parameters = plan.slots.map((slot) => (typeof slot === "string" ? values[slot] : slot.literal));
    const direct = syncExecutors.get(db);
    if (direct) return direct(plan.sql, parameters) as Row[];
    const result = await db.executeQuery<Row>(CompiledQuery.raw(plan.sql, parameters));
    return result.rows;
  }

  private plan(db: Executor) {
    const adapterKey = db.getExecutor().adapter as object;
    let plan = this.compiled.get(adapterKey);
    if (plan) return plan;
    const placeholders = new Proxy({} as Record<Name, string>, {
      get: (_t, name) => `${MARK}${String(name)}`,
    });
    const { sql, parameters } = this.build(db as Kysely<Database>, placeholders).compile();
    const slots = parameters.map((value) =>
      typeof value === "string" && value.startsWith(MARK)
        ? (value.slice(MARK.length) as Name)
        : { literal: value },
    );
    plan = { sql, slots };
    this.compiled.set(adapterKey, plan);
    return plan;
  }
}
