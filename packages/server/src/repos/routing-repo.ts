import type { ApprovalRequest } from "@countersign/core";
import { sql } from "kysely";
import type { Dialect } from "../storage/store.ts";
import type { Executor } from "./executor.ts";
import type { RequestFilter } from "./requests-repo.ts";
import { hasRole } from "./reviewers-repo.ts";

/** Request queries that routing and escalation need beside the ones in requests-repo.ts. */

export interface DueEscalation {
  request: ApprovalRequest;
  escalate_at: string;
}

/** Pending requests whose escalation time has passed; on PostgreSQL rows another replica holds are skipped. */
export async function listDueEscalations(
  db: Executor,
  nowIso: string,
  limit: number,
  dialect: Dialect,
): Promise<DueEscalation[]> {
  let query = db
    .selectFrom("requests")
    .select(["doc", "escalate_at"])
    // A literal (not a bound parameter) so the planner can use the partial index on pending rows.
    .where("status", "=", sql.lit("pending"))
    .where("escalate_at", "is not", null)
    .where("escalate_at", "<=", nowIso)
    .orderBy("escalate_at")
    .limit(limit);
  if (dialect === "postgres") query = query.forUpdate().skipLocked();
  const rows = await query.execute();
  return rows.flatMap((r) =>
    r.escalate_at === null
      ? []
      : [{ request: JSON.parse(r.doc) as ApprovalRequest, escalate_at: r.escalate_at }],
  );
}

/** Whether anything is due, read without taking the write path (the sweep runs every second). */
export async function hasDueEscalation(db: Executor, nowIso: string): Promise<boolean> {
  const row = await db
    .selectFrom("requests")
    .select("id")
    .where("status", "=", sql.lit("pending"))
    .where("escalate_at", "is not", null)
    .where("escalate_at", "<=", nowIso)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Writes an escalated request, only if it is still pending and still due at the time that was
 * read: the compare-and-set that makes each escalation fire exactly once, whatever the replicas
 * and restarts. Returns false if someone else got there first.
 */
export async function saveEscalation(
  db: Executor,
  request: ApprovalRequest,
  dueAt: string,
  nextAt: string | null,
): Promise<boolean> {
  const result = await db
    .updateTable("requests")
    .set({ doc: JSON.stringify(request), updated_at: request.updated_at, escalate_at: nextAt })
    .where("id", "=", request.id)
    .where("status", "=", "pending")
    .where("escalate_at", "=", dueAt)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Newest first, like listRequests, restricted to what a reviewer may see: requests without
 * required roles and those requiring a role in `roles`. The LIKE match may over-match on engines
 * whose LIKE ignores case; the caller re-checks each row.
 */
export async function listRequestsForRoles(
  db: Executor,
  filter: RequestFilter,
  roles: readonly string[],
): Promise<ApprovalRequest[]> {
  let query = db
    .selectFrom("requests")
    .select("doc")
    .orderBy("id", "desc")
    .limit(filter.limit)
    .where((eb) => eb.or([eb("roles", "=", ""), ...roles.map((role) => hasRole("roles", role))]));
  if (filter.status) query = query.where("status", "=", filter.status);
  if (filter.correlation_id) query = query.where("correlation_id", "=", filter.correlation_id);
  if (filter.role) query = query.where(hasRole("roles", filter.role));
  if (filter.before_id) query = query.where("id", "<", filter.before_id);
  const rows = await query.execute();
  return rows.map((r) => JSON.parse(r.doc) as ApprovalRequest);
}
