import { sql } from "kysely";
import type { GovernedCallsTable } from "../storage/schema.ts";
import type { Executor } from "./executor.ts";
import { QueryTemplate } from "./query-template.ts";

export interface RunUsage {
  agent_key_id: string;
  run_id: string;
  first_call_at: string;
  steps: number;
  tool_calls: number;
  usd: number;
  budget_extensions: number;
}

/**
 * Adds one governed call to its run's totals and returns the new totals, atomically (an upsert
 * with increments), so concurrent calls of one run on several replicas never lose a count.
 */
// Runs on every governed call: kept prebuilt (see QueryTemplate).
const addRunUsageQuery = new QueryTemplate<"agent_key_id" | "run_id" | "steps" | "usd" | "at">((db, p) =>
  db
    .insertInto("runs")
    .values({
      agent_key_id: p.agent_key_id,
      run_id: p.run_id,
      first_call_at: p.at,
      steps: sql<number>`${p.steps}`,
      tool_calls: sql<number>`1`,
      usd: sql<number>`${p.usd}`,
      budget_extensions: sql<number>`0`,
      updated_at: p.at,
    })
    .onConflict((oc) =>
      oc.columns(["agent_key_id", "run_id"]).doUpdateSet((eb) => ({
        steps: eb("runs.steps", "+", sql<number>`${p.steps}`),
        tool_calls: eb("runs.tool_calls", "+", sql<number>`1`),
        usd: eb("runs.usd", "+", sql<number>`${p.usd}`),
        updated_at: p.at,
      })),
    )
    .returning([
      "agent_key_id",
      "run_id",
      "first_call_at",
      "steps",
      "tool_calls",
      "usd",
      "budget_extensions",
    ]),
);

/**
 * Adds one governed call to its run's totals and returns the new totals, atomically (an upsert
 * with increments), so concurrent calls of one run on several replicas never lose a count.
 */
export async function addRunUsage(
  db: Executor,
  input: { agent_key_id: string; run_id: string; steps: number; usd: number; at: string },
): Promise<RunUsage> {
  const [row] = await addRunUsageQuery.execute<RunUsage>(db, input);
  if (!row) throw new Error("the run usage upsert returned no row");
  return {
    ...row,
    steps: Number(row.steps),
    tool_calls: Number(row.tool_calls),
    usd: Number(row.usd),
    budget_extensions: Number(row.budget_extensions),
  };
}

export async function extendRunBudget(
  db: Executor,
  agentKeyId: string,
  runId: string,
  at: string,
): Promise<void> {
  await db
    .updateTable("runs")
    .set((eb) => ({ budget_extensions: eb("budget_extensions", "+", 1), updated_at: at }))
    .where("agent_key_id", "=", agentKeyId)
    .where("run_id", "=", runId)
    .execute();
}

export async function findGovernedCall(
  db: Executor,
  agentKeyId: string,
  runId: string,
  callId: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom("governed_calls")
    .select("doc")
    .where("agent_key_id", "=", agentKeyId)
    .where("run_id", "=", runId)
    .where("call_id", "=", callId)
    .executeTakeFirst();
  return row?.doc;
}

const insertGovernedCallQuery = new QueryTemplate<keyof GovernedCallsTable>((db, p) =>
  db.insertInto("governed_calls").values({
    id: p.id,
    agent_key_id: p.agent_key_id,
    run_id: p.run_id,
    call_id: p.call_id,
    decision: p.decision,
    request_id: p.request_id,
    correlation_id: p.correlation_id,
    created_at: p.created_at,
    doc: p.doc,
  }),
);

export async function insertGovernedCall(db: Executor, row: GovernedCallsTable): Promise<void> {
  await insertGovernedCallQuery.execute(db, row);
}
