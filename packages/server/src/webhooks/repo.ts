import { sql } from "kysely";
import { type Executor, isUniqueViolation } from "../repos/executor.ts";
import { QueryTemplate } from "../repos/query-template.ts";
import type { Dialect } from "../storage/store.ts";
import type { EventType } from "./events.ts";
import {
  type WebhookAttemptsTable,
  type WebhookDeliveriesTable,
  type WebhookEndpointsTable,
  type WebhookMessagesTable,
  wdb,
} from "./schema.ts";

export type DeliveryStatus = "pending" | "delivered" | "dead" | "aborted" | "cancelled";
export const DELIVERY_STATUSES: readonly DeliveryStatus[] = [
  "pending",
  "delivered",
  "dead",
  "aborted",
  "cancelled",
];

export type EndpointRow = WebhookEndpointsTable;
export type DeliveryRow = WebhookDeliveriesTable;
export type AttemptRow = WebhookAttemptsTable;
export type MessageRow = WebhookMessagesTable;

/** What the outbox needs of each subscribed endpoint, read once per transaction. */
export interface Subscription {
  id: string;
  url: string;
  events: EventType[];
}

// Read inside every transaction that appends an auditable event (the outbox listener).
const activeEndpoints = new QueryTemplate<never>((db) =>
  wdb(db)
    .selectFrom("webhook_endpoints")
    .select(["id", "url", "events"])
    .where("active", "=", 1)
    .orderBy("id"),
);

export async function listSubscriptions(db: Executor): Promise<Subscription[]> {
  const rows = await activeEndpoints.execute<{ id: string; url: string; events: string }>(db, {});
  return rows.map((r) => ({ id: r.id, url: r.url, events: JSON.parse(r.events) as EventType[] }));
}

// Read in the transaction of every request event when no endpoint subscribes to it: only the
// callback URL is needed then, and extracting it in the database beats parsing the whole document.
const callbackUrlQueries: Record<Dialect, QueryTemplate<"id">> = {
  sqlite: new QueryTemplate<"id">((db, p) =>
    db
      .selectFrom("requests")
      .select(sql<string | null>`json_extract(doc, '$.callback_url')`.as("url"))
      .where("id", "=", p.id),
  ),
  postgres: new QueryTemplate<"id">((db, p) =>
    db
      .selectFrom("requests")
      .select(sql<string | null>`(doc::jsonb ->> 'callback_url')`.as("url"))
      .where("id", "=", p.id),
  ),
};

/** A request's callback URL (null when it has none, undefined when there is no such request). */
export async function requestCallbackUrl(
  db: Executor,
  dialect: Dialect,
  id: string,
): Promise<string | null | undefined> {
  const [row] = await callbackUrlQueries[dialect].execute<{ url: string | null }>(db, { id });
  return row ? row.url : undefined;
}

export async function insertEndpoint(db: Executor, row: EndpointRow): Promise<void> {
  await wdb(db).insertInto("webhook_endpoints").values(row).execute();
}

export async function getEndpoint(db: Executor, id: string): Promise<EndpointRow | undefined> {
  return wdb(db).selectFrom("webhook_endpoints").selectAll().where("id", "=", id).executeTakeFirst();
}

export async function listEndpoints(db: Executor): Promise<EndpointRow[]> {
  return wdb(db).selectFrom("webhook_endpoints").selectAll().where("active", "=", 1).orderBy("id").execute();
}

export async function countActiveEndpoints(db: Executor): Promise<number> {
  const row = await wdb(db)
    .selectFrom("webhook_endpoints")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("active", "=", 1)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function updateEndpointSecrets(
  db: Executor,
  id: string,
  secrets: string,
  at: string,
): Promise<boolean> {
  const result = await wdb(db)
    .updateTable("webhook_endpoints")
    .set({ secrets, updated_at: at })
    .where("id", "=", id)
    .where("active", "=", 1)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function deleteEndpoint(db: Executor, id: string, at: string): Promise<boolean> {
  const result = await wdb(db)
    .updateTable("webhook_endpoints")
    .set({ active: 0, deleted_at: at, updated_at: at })
    .where("id", "=", id)
    .where("active", "=", 1)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Pending deliveries to a deleted endpoint will never be sent: mark them cancelled. */
export async function cancelEndpointDeliveries(
  db: Executor,
  endpointId: string,
  at: string,
): Promise<number> {
  const result = await wdb(db)
    .updateTable("webhook_deliveries")
    .set({
      status: "cancelled",
      locked_until: null,
      lease_token: null,
      next_attempt_at: null,
      updated_at: at,
    })
    .where("endpoint_id", "=", endpointId)
    .where("status", "=", "pending")
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Idempotent: a message is written once whichever listener (or replay) gets there first. */
export async function insertMessage(db: Executor, row: MessageRow): Promise<void> {
  await wdb(db)
    .insertInto("webhook_messages")
    .values(row)
    .onConflict((oc) => oc.column("id").doNothing())
    .execute();
}

export async function insertDelivery(db: Executor, row: DeliveryRow): Promise<void> {
  await wdb(db)
    .insertInto("webhook_deliveries")
    .values(row)
    .onConflict((oc) => oc.columns(["message_id", "target_key"]).doNothing())
    .execute();
}

/**
 * Claims up to `limit` due deliveries by writing a lease on them. On PostgreSQL the rows are
 * selected `FOR UPDATE SKIP LOCKED`, so replicas claiming at the same time take different rows.
 * A delivery whose lease has run out (its worker died mid-attempt) is due again.
 */
export async function claimDue(
  db: Executor,
  dialect: Dialect,
  options: { now: string; leaseUntil: string; token: string; limit: number },
): Promise<DeliveryRow[]> {
  let query = wdb(db)
    .selectFrom("webhook_deliveries")
    .select("id")
    .where("status", "=", "pending")
    .where("next_attempt_at", "<=", options.now)
    .where((eb) => eb.or([eb("locked_until", "is", null), eb("locked_until", "<=", options.now)]))
    .orderBy("next_attempt_at")
    .limit(options.limit);
  if (dialect === "postgres") query = query.forUpdate().skipLocked();
  const ids = (await query.execute()).map((r) => r.id);
  if (ids.length === 0) return [];
  await wdb(db)
    .updateTable("webhook_deliveries")
    .set({ locked_until: options.leaseUntil, lease_token: options.token, updated_at: options.now })
    .where("id", "in", ids)
    .execute();
  return wdb(db).selectFrom("webhook_deliveries").selectAll().where("id", "in", ids).execute();
}

export async function getMessageBodies(db: Executor, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await wdb(db)
    .selectFrom("webhook_messages")
    .select(["id", "body"])
    .where("id", "in", [...new Set(ids)])
    .execute();
  return new Map(rows.map((r) => [r.id, r.body]));
}

/** The delivery, if this worker still holds its lease and it is still pending. */
export async function getLeasedDelivery(
  db: Executor,
  dialect: Dialect,
  id: string,
  token: string,
): Promise<DeliveryRow | undefined> {
  let query = wdb(db)
    .selectFrom("webhook_deliveries")
    .selectAll()
    .where("id", "=", id)
    .where("lease_token", "=", token)
    .where("status", "=", "pending");
  if (dialect === "postgres") query = query.forUpdate();
  return query.executeTakeFirst();
}

/** Extends a lease this worker still holds; false when it no longer does. */
export async function renewLease(
  db: Executor,
  id: string,
  token: string,
  options: { leaseUntil: string; now: string },
): Promise<boolean> {
  const result = await wdb(db)
    .updateTable("webhook_deliveries")
    .set({ locked_until: options.leaseUntil, updated_at: options.now })
    .where("id", "=", id)
    .where("lease_token", "=", token)
    .where("status", "=", "pending")
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function updateDelivery(
  db: Executor,
  id: string,
  changes: Partial<Omit<DeliveryRow, "id">>,
): Promise<void> {
  await wdb(db).updateTable("webhook_deliveries").set(changes).where("id", "=", id).execute();
}

export async function insertAttempt(db: Executor, row: AttemptRow): Promise<void> {
  try {
    await wdb(db).insertInto("webhook_attempts").values(row).execute();
  } catch (error) {
    // The same attempt recorded twice can only be a replayed unit; the first record stands.
    if (!isUniqueViolation(error)) throw error;
  }
}

export async function getDelivery(
  db: Executor,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<DeliveryRow | undefined> {
  let query = wdb(db).selectFrom("webhook_deliveries").selectAll().where("id", "=", id);
  if (options.forUpdate) query = query.forUpdate();
  return query.executeTakeFirst();
}

export interface DeliveryFilter {
  status?: DeliveryStatus;
  endpoint_id?: string;
  subject_id?: string;
  /** Deliveries with ids strictly below this one (newest first paging). */
  before_id?: string;
  limit: number;
}

export async function listDeliveries(db: Executor, filter: DeliveryFilter): Promise<DeliveryRow[]> {
  let query = wdb(db).selectFrom("webhook_deliveries").selectAll().orderBy("id", "desc").limit(filter.limit);
  if (filter.status) query = query.where("status", "=", filter.status);
  if (filter.endpoint_id) query = query.where("endpoint_id", "=", filter.endpoint_id);
  if (filter.subject_id) query = query.where("subject_id", "=", filter.subject_id);
  if (filter.before_id) query = query.where("id", "<", filter.before_id);
  return query.execute();
}

export async function listAttempts(db: Executor, deliveryIds: string[]): Promise<Map<string, AttemptRow[]>> {
  const out = new Map<string, AttemptRow[]>();
  if (deliveryIds.length === 0) return out;
  const rows = await wdb(db)
    .selectFrom("webhook_attempts")
    .selectAll()
    .where("delivery_id", "in", deliveryIds)
    .orderBy("delivery_id")
    .orderBy("attempt")
    .execute();
  for (const row of rows) {
    const list = out.get(row.delivery_id) ?? [];
    list.push(row);
    out.set(row.delivery_id, list);
  }
  return out;
}
