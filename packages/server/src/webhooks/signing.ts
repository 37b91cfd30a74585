import { createHmac, sign } from "node:crypto";
import type { SigningKeys } from "./secrets.ts";

/**
 * Standard Webhooks signatures: the signed content is `${webhook-id}.${webhook-timestamp}.${body}`;
 * `v1,` carries base64 HMAC-SHA256 with each live symmetric secret, `v1a,` base64 Ed25519 with each
 * live key pair. All are sent, space-separated, so a receiver holding any one of them verifies.
 */
export function signatureHeader(
  keys: SigningKeys,
  messageId: string,
  timestamp: number,
  body: string,
): string {
  const content = Buffer.from(`${messageId}.${timestamp}.${body}`, "utf8");
  const parts: string[] = [];
  for (const key of keys.hmac) parts.push(`v1,${createHmac("sha256", key).update(content).digest("base64")}`);
  for (const key of keys.ed25519) parts.push(`v1a,${sign(null, content, key).toString("base64")}`);
  return parts.join(" ");
}

/** The three headers of one attempt; the timestamp is the attempt's, the id the message's. */
export function webhookHeaders(
  keys: SigningKeys,
  messageId: string,
  nowMs: number,
  body: string,
): Record<string, string> {
  const timestamp = Math.floor(nowMs / 1000);
  return {
    "webhook-id": messageId,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": signatureHeader(keys, messageId, timestamp, body),
  };
}
