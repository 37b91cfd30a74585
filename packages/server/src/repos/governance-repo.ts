import type { Executor } from "./executor.ts";

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
export async function addRunUsage(
  db: Executor,
  input: { agent_key_id: string; run_id: string; steps: number; usd: number; at: string },
): Promise<RunUsage> {
  const row = await db
    .insertInto("runs")
    .values({
      agent_key_id: input.agent_key_id,
      run_id: input.run_id,
      first_call_at: input.at,
      steps: input.steps,
      tool_calls: 1,
      usd: input.usd,
      budget_extensions: 0,
      updated_at: input.at,
    })
    .onConflict((oc) =>
      oc.columns(["agent_key_id", "run_id"]).doUpdateSet((eb) => ({
        steps: eb("runs.steps", "+", input.steps),
        tool_calls: eb("runs.tool_calls", "+", 1),
        usd: eb("runs.usd", "+", input.usd),
        updated_at: input.at,
      })),
    )
    .returning(["agent_key_id", "run_id", "first_call_at", "steps", "tool_calls", "usd", "budget_extensions"])
    .executeTakeFirstOrThrow();
  return { ...row, steps: Number(row.steps), tool_calls: Number(row.tool_calls), usd: Number(row.usd) };
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

export async function insertGovernedCall(
  db: Executor,
  row: {
    id: string;
    agent_key_id: string;
    run_id: string;
    call_id: string | null;
    decision: string;
    request_id: string | null;
    correlation_id: string;
    created_at: string;
    doc: string;
  },
): Promise<void> {
  await db.insertInto("governed_calls").values(row).execute();
}
