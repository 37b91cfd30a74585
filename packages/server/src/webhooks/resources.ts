import type { Executor } from "../repos/executor.ts";
import type { EventType } from "./events.ts";
import {
  type AttemptRow,
  type DeliveryRow,
  type DeliveryStatus,
  type EndpointRow,
  listAttempts,
} from "./repo.ts";
import type { SigningMaterial, SigningScheme } from "./secrets.ts";

/** One attempt as the API shows it. */
export interface AttemptResource {
  attempt: number;
  at: string;
  /**
   * `delivered`, `failed` (an error or non-2xx answer), `refused` (the SSRF guard would not connect)
   * or `interrupted` (this server shut down mid-attempt; not counted against the retry schedule).
   */
  outcome: string;
  status_code: number | null;
  error: string | null;
  /** The start of the receiver's response body. */
  response: string | null;
  duration_ms: number;
}

export interface DeliveryResource {
  id: string;
  /** The `webhook-id` every attempt of this message carries. */
  message_id: string;
  event_type: EventType;
  /** `endpoint` (a registered webhook) or `callback` (the request's own callback_url). */
  target: "endpoint" | "callback";
  endpoint_id: string | null;
  url: string;
  subject_id: string;
  correlation_id: string | null;
  status: DeliveryStatus;
  attempt_count: number;
  next_attempt_at: string | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  delivered_at: string | null;
  dead_lettered_at: string | null;
  attempts: AttemptResource[];
}

export function attemptResource(row: AttemptRow): AttemptResource {
  return {
    attempt: Number(row.attempt),
    at: row.at,
    outcome: row.outcome,
    status_code: row.status_code === null ? null : Number(row.status_code),
    error: row.error,
    response: row.response,
    duration_ms: Number(row.duration_ms),
  };
}

export function deliveryResource(row: DeliveryRow, attempts: AttemptRow[]): DeliveryResource {
  return {
    id: row.id,
    message_id: row.message_id,
    event_type: row.event_type as EventType,
    target: row.target as "endpoint" | "callback",
    endpoint_id: row.endpoint_id,
    url: row.url,
    subject_id: row.subject_id,
    correlation_id: row.correlation_id,
    status: row.status as DeliveryStatus,
    attempt_count: Number(row.attempt_count),
    next_attempt_at: row.status === "pending" ? row.next_attempt_at : null,
    last_error: row.last_error,
    created_at: row.created_at,
    updated_at: row.updated_at,
    delivered_at: row.delivered_at,
    dead_lettered_at: row.dead_lettered_at,
    attempts: attempts.map(attemptResource),
  };
}

export async function loadDeliveryResources(db: Executor, rows: DeliveryRow[]): Promise<DeliveryResource[]> {
  const attempts = await listAttempts(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((r) => deliveryResource(r, attempts.get(r.id) ?? []));
}

export interface EndpointResource {
  id: string;
  url: string;
  events: EventType[];
  description: string | null;
  signing: SigningScheme;
  /** For `ed25519` signing: the current public key (`whpk_…`) that verifies `v1a` signatures. */
  public_key: string | null;
  /** While a rotated-out secret still signs (its grace period), when it stops. */
  previous_secret_expires_at: string | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

export function endpointResource(row: EndpointRow, material: SigningMaterial | undefined): EndpointResource {
  const retired = material?.hmac.find((h) => h.expires_at !== null);
  return {
    id: row.id,
    url: row.url,
    events: JSON.parse(row.events) as EventType[],
    description: row.description,
    signing: row.signing as SigningScheme,
    public_key: material?.ed25519[0]?.public_key ?? null,
    previous_secret_expires_at: retired?.expires_at ?? null,
    created_at: row.created_at,
    updated_at: row.updated_at,
    deleted_at: row.deleted_at,
  };
}

/** URLs as audit entries record them: no credentials, query or fragment (they may carry tokens). */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return "(invalid url)";
  }
}
