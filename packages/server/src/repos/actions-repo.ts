import type { Action } from "@countersign/core";
import type { Executor } from "./executor.ts";

export async function insertAction(db: Executor, action: Action): Promise<void> {
  await db
    .insertInto("actions")
    .values({
      id: action.id,
      correlation_id: action.correlation_id,
      created_by_key_id: action.created_by.key_id,
      created_at: action.created_at,
      doc: JSON.stringify(action),
    })
    .execute();
}

export async function listActionsByCorrelation(db: Executor, correlationId: string): Promise<Action[]> {
  const rows = await db
    .selectFrom("actions")
    .select("doc")
    .where("correlation_id", "=", correlationId)
    .orderBy("id")
    .limit(1000)
    .execute();
  return rows.map((r) => JSON.parse(r.doc) as Action);
}
