import type { Kysely, Transaction } from "kysely";
import type { Executor } from "../repos/executor.ts";
import type { Database } from "../storage/schema.ts";

/**
 * The webhook tables (migration `0003_webhooks`). They are typed here, beside the feature, and
 * joined to the shared `Database` type where the feature queries them.
 */
export interface WebhookEndpointsTable {
  id: string;
  url: string;
  /** JSON array of subscribed event types. */
  events: string;
  description: string | null;
  signing: string;
  /** Encrypted signing material (a `SecretBox` envelope). */
  secrets: string;
  active: number;
  created_at: string;
  created_by: string | null;
  updated_at: string;
  deleted_at: string | null;
}

export interface WebhookMessagesTable {
  id: string;
  event_type: string;
  audit_seq: number;
  subject_id: string;
  correlation_id: string | null;
  body: string;
  created_at: string;
}

export interface WebhookDeliveriesTable {
  id: string;
  message_id: string;
  /** The endpoint id, or `callback` for a request's own callback_url: one delivery per message and target. */
  target_key: string;
  target: string;
  endpoint_id: string | null;
  url: string;
  event_type: string;
  subject_id: string;
  correlation_id: string | null;
  owner_key_id: string | null;
  status: string;
  attempt_count: number;
  cycle_attempts: number;
  next_attempt_at: string | null;
  locked_until: string | null;
  lease_token: string | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  delivered_at: string | null;
  dead_lettered_at: string | null;
}

export interface WebhookAttemptsTable {
  delivery_id: string;
  attempt: number;
  at: string;
  duration_ms: number;
  outcome: string;
  status_code: number | null;
  error: string | null;
  response: string | null;
}

export interface WebhooksTables {
  webhook_endpoints: WebhookEndpointsTable;
  webhook_messages: WebhookMessagesTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
}

export type WebhooksDatabase = Database & WebhooksTables;
export type WebhooksExecutor = Kysely<WebhooksDatabase> | Transaction<WebhooksDatabase>;

/** The same connection or transaction, typed to see the webhook tables too. */
export function wdb(db: Executor): WebhooksExecutor {
  return db as unknown as WebhooksExecutor;
}
