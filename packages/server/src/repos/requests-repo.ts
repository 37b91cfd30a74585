import type { ApprovalRequest, Review } from "@countersign/core";
import { sql } from "kysely";
import type { Executor } from "./executor.ts";
import { QueryTemplate } from "./query-template.ts";
import { hasRole } from "./reviewers-repo.ts";

function rolesColumn(roles: string[]): string {
  return roles.length === 0 ? "" : `|${roles.join("|")}|`;
}

function toRow(r: ApprovalRequest) {
  return {
    id: r.id,
    status: r.status,
    type: r.type,
    priority: r.priority,
    correlation_id: r.correlation_id,
    created_by_key_id: r.created_by.key_id,
    external_request_id: r.external_request_id,
    expires_at: r.expires_at,
    roles: rolesColumn(r.required_roles),
    created_at: r.created_at,
    updated_at: r.updated_at,
    doc: JSON.stringify(r),
  };
}

const insertRequestQuery = new QueryTemplate<keyof ReturnType<typeof toRow> | "escalate_at">((db, p) =>
  db.insertInto("requests").values({
    id: p.id,
    status: p.status,
    type: p.type,
    priority: p.priority,
    correlation_id: p.correlation_id,
    created_by_key_id: p.created_by_key_id,
    external_request_id: p.external_request_id,
    expires_at: p.expires_at,
    roles: p.roles,
    created_at: p.created_at,
    updated_at: p.updated_at,
    doc: p.doc,
    escalate_at: p.escalate_at,
  }),
);

/**
 * Inserts a new request; `escalate_at` is when it first escalates (routing decides), if ever.
 * Returns the JSON stored as its document, which is the resource as a response would serialise it.
 */
export async function insertRequest(db: Executor, request: ApprovalRequest): Promise<string> {
  const row = toRow(request);
  await insertRequestQuery.execute(db, { ...row, escalate_at: request.routing?.next_escalation_at ?? null });
  return row.doc;
}

/** Writes a transition out of `pending`; returns false if the row was no longer pending. */
export async function updatePendingRequest(db: Executor, request: ApprovalRequest): Promise<boolean> {
  const row = toRow(request);
  const result = await db
    .updateTable("requests")
    .set({ status: row.status, updated_at: row.updated_at, doc: row.doc })
    .where("id", "=", request.id)
    .where("status", "=", "pending")
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function getRequest(
  db: Executor,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<ApprovalRequest | undefined> {
  let query = db.selectFrom("requests").select("doc").where("id", "=", id);
  if (options.forUpdate) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  return row ? (JSON.parse(row.doc) as ApprovalRequest) : undefined;
}

export async function findRequestByExternalId(
  db: Executor,
  keyId: string,
  externalId: string,
): Promise<ApprovalRequest | undefined> {
  const row = await db
    .selectFrom("requests")
    .select("doc")
    .where("created_by_key_id", "=", keyId)
    .where("external_request_id", "=", externalId)
    .executeTakeFirst();
  return row ? (JSON.parse(row.doc) as ApprovalRequest) : undefined;
}

export interface RequestFilter {
  status?: string;
  correlation_id?: string;
  role?: string;
  created_by_key_id?: string;
  /** Return requests with ids strictly below this one (newest first paging). */
  before_id?: string;
  limit: number;
}

/** Newest first; ids are time-sortable, so `id` is the cursor. */
export async function listRequests(db: Executor, filter: RequestFilter): Promise<ApprovalRequest[]> {
  let query = db.selectFrom("requests").select("doc").orderBy("id", "desc").limit(filter.limit);
  if (filter.status) query = query.where("status", "=", filter.status);
  if (filter.correlation_id) query = query.where("correlation_id", "=", filter.correlation_id);
  if (filter.created_by_key_id) query = query.where("created_by_key_id", "=", filter.created_by_key_id);
  if (filter.role) query = query.where(hasRole("roles", filter.role));
  if (filter.before_id) query = query.where("id", "<", filter.before_id);
  const rows = await query.execute();
  return rows.map((r) => JSON.parse(r.doc) as ApprovalRequest);
}

export async function listRequestsByCorrelation(
  db: Executor,
  correlationId: string,
): Promise<ApprovalRequest[]> {
  const rows = await db
    .selectFrom("requests")
    .select("doc")
    .where("correlation_id", "=", correlationId)
    .orderBy("id", "asc")
    .limit(1000)
    .execute();
  return rows.map((r) => JSON.parse(r.doc) as ApprovalRequest);
}

/** Pending requests whose TTL has passed; on PostgreSQL rows another replica is expiring are skipped. */
export async function listExpiredPending(
  db: Executor,
  nowIso: string,
  limit: number,
  dialect: "sqlite" | "postgres",
): Promise<ApprovalRequest[]> {
  let query = db
    .selectFrom("requests")
    .select("doc")
    // A literal (not a bound parameter) so the planner can use the partial index on pending rows.
    .where("status", "=", sql.lit("pending"))
    .where("expires_at", "is not", null)
    .where("expires_at", "<=", nowIso)
    .orderBy("expires_at")
    .limit(limit);
  if (dialect === "postgres") query = query.forUpdate().skipLocked();
  const rows = await query.execute();
  return rows.map((r) => JSON.parse(r.doc) as ApprovalRequest);
}

export async function insertReview(db: Executor, review: Review): Promise<void> {
  await db
    .insertInto("reviews")
    .values({
      id: review.id,
      request_id: review.request_id,
      reviewer_key_id: review.reviewer.key_id,
      created_at: review.created_at,
      doc: JSON.stringify(review),
    })
    .execute();
}

export async function listReviews(db: Executor, requestId: string): Promise<Review[]> {
  const rows = await db
    .selectFrom("reviews")
    .select("doc")
    .where("request_id", "=", requestId)
    .orderBy("id")
    .execute();
  return rows.map((r) => JSON.parse(r.doc) as Review);
}
