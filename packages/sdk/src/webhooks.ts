/*
 * Verifying Countersign webhooks (Standard Webhooks): `verifyWebhook` checks the signature over
 * `${webhook-id}.${webhook-timestamp}.${raw body}` and the timestamp's freshness, then returns the
 * typed event. Web Crypto only, so it runs wherever the SDK does (Node ≥ 18, Bun, Deno, browsers and
 * edge runtimes).
 */
import type { GovernResult } from "./governance-types.ts";
import { action, approvalRequest } from "./parse.ts";
import { governResult } from "./parse-governance.ts";
import type { Action, ApprovalRequest, Principal } from "./types.ts";
import { obj, type Parser, ShapeError, str, timestamp } from "./validate.ts";

export type WebhookEventType =
  | "request.created"
  | "request.decided"
  | "request.cancelled"
  | "request.timed_out"
  | "govern.denied"
  | "action.logged"
  | "kill_switch.changed"
  | "delivery.dead_lettered";

/** A kill switch as `kill_switch.changed` reports it (engaged, or released when `released_at` is set). */
export interface KillSwitchData {
  id: string;
  scope: "global" | "agent" | "run";
  agent: string | null;
  run_id: string | null;
  reason: string;
  engaged_at: string;
  engaged_by: Principal;
  released_at: string | null;
  released_by: Principal | null;
  release_reason: string | null;
  cancelled_requests: number;
  [key: string]: unknown;
}

/** One attempt of a delivery. */
export interface WebhookDeliveryAttempt {
  attempt: number;
  at: string;
  outcome: string;
  status_code: number | null;
  error: string | null;
  response: string | null;
  duration_ms: number;
}

/** A delivery that exhausted its retries, as `delivery.dead_lettered` reports it. */
export interface WebhookDeliveryData {
  id: string;
  message_id: string;
  event_type: WebhookEventType;
  target: "endpoint" | "callback";
  endpoint_id: string | null;
  url: string;
  subject_id: string;
  correlation_id: string | null;
  status: string;
  attempt_count: number;
  last_error: string | null;
  dead_lettered_at: string | null;
  attempts: WebhookDeliveryAttempt[];
  [key: string]: unknown;
}

interface EventBase<T extends WebhookEventType, D> {
  /** The `webhook-id` header: the same on every retry of one message. De-duplicate on it. */
  id: string;
  type: T;
  /** When the event happened. */
  timestamp: Date;
  data: D;
}

type RequestEventType = "request.created" | "request.decided" | "request.cancelled" | "request.timed_out";

/** A verified webhook event; narrow on `type` to get its `data`. */
export type WebhookEvent =
  | EventBase<RequestEventType, ApprovalRequest>
  | EventBase<"govern.denied", GovernResult>
  | EventBase<"action.logged", Action>
  | EventBase<"kill_switch.changed", KillSwitchData>
  | EventBase<"delivery.dead_lettered", WebhookDeliveryData>;

export type WebhookVerificationErrorCode =
  /** A `webhook-id`, `webhook-timestamp` or `webhook-signature` header is missing. */
  | "missing_headers"
  /** `webhook-timestamp` is not a number of seconds. */
  | "invalid_timestamp"
  /** Older than the tolerance (a replay, or a clock far behind). */
  | "timestamp_too_old"
  /** Newer than the tolerance (a clock far ahead). */
  | "timestamp_too_new"
  /** No signature matches any of the given secrets or public keys (wrong secret, tampered body). */
  | "invalid_signature"
  /** A secret or public key given to the verifier is malformed. */
  | "invalid_secret"
  /** Signed correctly, but the body is not a Countersign event of a known type. */
  | "invalid_payload";

export class WebhookVerificationError extends Error {
  readonly code: WebhookVerificationErrorCode;

  constructor(code: WebhookVerificationErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "WebhookVerificationError";
    this.code = code;
  }
}

export interface VerifyWebhookOptions {
  /** How far `webhook-timestamp` may be from now, either way (default 300 s). */
  toleranceSeconds?: number;
  /** The current time (for tests); defaults to `Date.now()`. */
  now?: () => number;
}

/** A `Headers`, or a plain object such as Node's `IncomingHttpHeaders` (names in any case). */
export type WebhookHeaders =
  | { get(name: string): string | null }
  | Record<string, string | string[] | undefined>;

const HMAC_PREFIX = "whsec_";
const PUBLIC_KEY_PREFIX = "whpk_";

/**
 * Verifies a webhook and returns its event, or throws `WebhookVerificationError`.
 *
 * `rawBody` must be the body exactly as received (bytes or text), never re-serialised JSON.
 * `secretOrPublicKey` is the endpoint's `whsec_…` secret (or the callback signing secret), or a
 * `whpk_…` Ed25519 public key; pass several (during a rotation) and any one may verify.
 */
export async function verifyWebhook(
  headers: WebhookHeaders,
  rawBody: string | Uint8Array | ArrayBuffer,
  secretOrPublicKey: string | readonly string[],
  options: VerifyWebhookOptions = {},
): Promise<WebhookEvent> {
  const id = header(headers, "webhook-id");
  const timestampText = header(headers, "webhook-timestamp");
  const signatureText = header(headers, "webhook-signature");
  if (!id || !timestampText || !signatureText) {
    throw new WebhookVerificationError(
      "missing_headers",
      "webhook-id, webhook-timestamp and webhook-signature headers are all required",
    );
  }
  if (!/^\d{1,15}$/.test(timestampText.trim())) {
    throw new WebhookVerificationError("invalid_timestamp", "webhook-timestamp is not a number of seconds");
  }
  const sentAt = Number(timestampText.trim());
  const now = Math.floor((options.now ?? Date.now)() / 1000);
  const tolerance = options.toleranceSeconds ?? 300;
  if (now - sentAt > tolerance) {
    throw new WebhookVerificationError(
      "timestamp_too_old",
      `webhook-timestamp is more than ${tolerance} s old`,
    );
  }
  if (sentAt - now > tolerance) {
    throw new WebhookVerificationError(
      "timestamp_too_new",
      `webhook-timestamp is more than ${tolerance} s in the future`,
    );
  }

  const body = toBytes(rawBody);
  const content = concat(utf8(`${id}.${timestampText.trim()}.`), body);
  const signatures = signatureText
    .split(" ")
    .map((part) => part.trim())
    .filter((part) => part !== "")
    .map((part) => {
      const comma = part.indexOf(",");
      return comma < 0
        ? { version: "", value: "" }
        : { version: part.slice(0, comma), value: part.slice(comma + 1) };
    });
  const keys = typeof secretOrPublicKey === "string" ? [secretOrPublicKey] : [...secretOrPublicKey];
  if (keys.length === 0)
    throw new WebhookVerificationError("invalid_secret", "no secret or public key given");

  let verified = false;
  for (const key of keys) {
    if (await verifyWithKey(key, content, signatures)) {
      verified = true;
      break;
    }
  }
  if (!verified) {
    throw new WebhookVerificationError("invalid_signature", "no webhook signature matches the given secret");
  }
  return parseEvent(id, new TextDecoder("utf-8", { fatal: false }).decode(body));
}

async function verifyWithKey(
  key: string,
  content: Uint8Array<ArrayBuffer>,
  signatures: Array<{ version: string; value: string }>,
): Promise<boolean> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle)
    throw new WebhookVerificationError("invalid_secret", "Web Crypto (crypto.subtle) is not available");
  if (key.startsWith(PUBLIC_KEY_PREFIX)) {
    const raw = decodeBase64(key.slice(PUBLIC_KEY_PREFIX.length));
    if (raw?.length !== 32) {
      throw new WebhookVerificationError("invalid_secret", "a whpk_ public key must hold 32 base64 bytes");
    }
    const publicKey = await subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
    for (const s of signatures) {
      if (s.version !== "v1a") continue;
      const signature = decodeBase64(s.value);
      if (signature && (await subtle.verify({ name: "Ed25519" }, publicKey, signature, content))) return true;
    }
    return false;
  }
  const secret = decodeBase64(key.startsWith(HMAC_PREFIX) ? key.slice(HMAC_PREFIX.length) : key);
  if (!secret || secret.length === 0) {
    throw new WebhookVerificationError("invalid_secret", "the secret must be whsec_ followed by base64");
  }
  const hmacKey = await subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const expected = new Uint8Array(await subtle.sign("HMAC", hmacKey, content));
  let matched = false;
  for (const s of signatures) {
    if (s.version !== "v1") continue;
    const given = decodeBase64(s.value);
    // Constant time over the signature bytes; every v1 signature is compared, matched or not.
    if (given && constantTimeEqual(given, expected)) matched = true;
  }
  return matched;
}

const REQUEST_EVENTS = new Set([
  "request.created",
  "request.decided",
  "request.cancelled",
  "request.timed_out",
]);

const killSwitch: Parser<KillSwitchData> = (value, path) => {
  const o = obj(value, path);
  return { ...o, id: str(o.id, `${path}.id`), scope: str(o.scope, `${path}.scope`) } as KillSwitchData;
};

const deliveryData: Parser<WebhookDeliveryData> = (value, path) => {
  const o = obj(value, path);
  return {
    ...o,
    id: str(o.id, `${path}.id`),
    message_id: str(o.message_id, `${path}.message_id`),
    subject_id: str(o.subject_id, `${path}.subject_id`),
  } as WebhookDeliveryData;
};

function parseEvent(id: string, text: string): WebhookEvent {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new WebhookVerificationError("invalid_payload", "the webhook body is not JSON", { cause: error });
  }
  try {
    const o = obj(json, "$");
    const type = str(o.type, "$.type");
    const at = timestamp(o.timestamp, "$.timestamp");
    if (REQUEST_EVENTS.has(type)) {
      const data = approvalRequest(o.data, "$.data");
      return { id, type: type as RequestEventType, timestamp: at, data };
    }
    switch (type) {
      case "govern.denied":
        return { id, type, timestamp: at, data: governResult(o.data, "$.data") };
      case "action.logged":
        return { id, type, timestamp: at, data: action(o.data, "$.data") };
      case "kill_switch.changed":
        return { id, type, timestamp: at, data: killSwitch(o.data, "$.data") };
      case "delivery.dead_lettered":
        return { id, type, timestamp: at, data: deliveryData(o.data, "$.data") };
    }
    throw new WebhookVerificationError("invalid_payload", `unknown event type ${JSON.stringify(type)}`);
  } catch (error) {
    if (error instanceof WebhookVerificationError) throw error;
    const message = error instanceof ShapeError ? error.message : String(error);
    throw new WebhookVerificationError("invalid_payload", `not a Countersign event: ${message}`, {
      cause: error,
    });
  }
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === "function") {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const record = headers as Record<string, string | string[] | undefined>;
  for (const key of Object.keys(record)) {
    if (key.toLowerCase() !== name) continue;
    const value = record[key];
    return Array.isArray(value) ? value.join(" ") : value;
  }
  return undefined;
}

function toBytes(body: string | Uint8Array | ArrayBuffer): Uint8Array {
  if (typeof body === "string") return utf8(body);
  if (body instanceof Uint8Array) return body;
  return new Uint8Array(body);
}

function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) return undefined;
  try {
    const binary = atob(text);
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  } catch {
    return undefined;
  }
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
