import { coveredRoles, type Reviewer } from "@countersign/core";
import { type Expression, type SqlBool, sql } from "kysely";
import type { Executor } from "./executor.ts";

export interface ReviewersTable {
  id: string;
  name: string;
  key_id: string | null;
  /** Every role held or covered as a fallback, as `|role1|role2|` (a LIKE filter on both engines). */
  roles_index: string;
  created_at: string;
  updated_at: string;
  doc: string;
}

declare module "../storage/schema.ts" {
  interface Database {
    reviewers: ReviewersTable;
  }
  interface RequestsTable {
    /** When the pending request next escalates (see the 0004_reviewers migration). */
    escalate_at: string | null;
  }
}

function rolesIndex(r: Reviewer): string {
  const roles = coveredRoles(r);
  return roles.length === 0 ? "" : `|${roles.join("|")}|`;
}

function toRow(r: Reviewer): ReviewersTable {
  return {
    id: r.id,
    name: r.name,
    key_id: r.key_id,
    roles_index: rolesIndex(r),
    created_at: r.created_at,
    updated_at: r.updated_at,
    doc: JSON.stringify(r),
  };
}

function parse(row: { doc: string }): Reviewer {
  return JSON.parse(row.doc) as Reviewer;
}

export async function insertReviewer(db: Executor, reviewer: Reviewer): Promise<void> {
  await db.insertInto("reviewers").values(toRow(reviewer)).execute();
}

export async function updateReviewer(db: Executor, reviewer: Reviewer): Promise<boolean> {
  const { id: _id, created_at: _created, ...row } = toRow(reviewer);
  const result = await db.updateTable("reviewers").set(row).where("id", "=", reviewer.id).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function deleteReviewer(db: Executor, id: string): Promise<boolean> {
  const result = await db.deleteFrom("reviewers").where("id", "=", id).executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}

export async function getReviewer(db: Executor, id: string): Promise<Reviewer | undefined> {
  const row = await db.selectFrom("reviewers").select("doc").where("id", "=", id).executeTakeFirst();
  return row ? parse(row) : undefined;
}

/** The person a responding key belongs to, if a reviewer record links it. */
export async function findReviewerByKeyId(db: Executor, keyId: string): Promise<Reviewer | undefined> {
  const row = await db.selectFrom("reviewers").select("doc").where("key_id", "=", keyId).executeTakeFirst();
  return row ? parse(row) : undefined;
}

export interface ReviewerFilter {
  /** Only reviewers holding or covering this role. */
  role?: string;
  /** Reviewers with ids strictly above this one (ascending paging). */
  after_id?: string;
  limit: number;
}

export async function listReviewers(db: Executor, filter: ReviewerFilter): Promise<Reviewer[]> {
  let query = db.selectFrom("reviewers").select("doc").orderBy("id").limit(filter.limit);
  if (filter.role) query = query.where(hasRole("roles_index", filter.role));
  if (filter.after_id) query = query.where("id", ">", filter.after_id);
  return (await query.execute()).map(parse);
}

/** Every reviewer who holds or covers at least one of `roles` (all reviewers when `roles` is empty). */
export async function listReviewersCovering(db: Executor, roles: readonly string[]): Promise<Reviewer[]> {
  let query = db.selectFrom("reviewers").select("doc").orderBy("id");
  if (roles.length > 0) {
    query = query.where((eb) => eb.or(roles.map((role) => hasRole("roles_index", role))));
  }
  return (await query.execute()).map(parse);
}

/** Reviewer records linked to any of these keys (to name admins when a request escalates to them). */
export async function listReviewersByKeyIds(db: Executor, keyIds: readonly string[]): Promise<Reviewer[]> {
  if (keyIds.length === 0) return [];
  const rows = await db
    .selectFrom("reviewers")
    .select("doc")
    .where("key_id", "in", [...keyIds])
    .execute();
  return rows.map(parse);
}

/**
 * `column` (a `|a|b|` role list) contains `role`. LIKE with an explicit escape character, so the
 * `_` allowed in role names stays literal instead of matching any character; both engines accept
 * `ESCAPE`.
 */
export function hasRole(column: string, role: string): Expression<SqlBool> {
  const literal = role.replace(/[\\%_]/g, (c) => `\\${c}`);
  return sql<SqlBool>`${sql.ref(column)} like ${`%|${literal}|%`} escape '\\'`;
}
