// What an agent may read of the delivery of its own requests' callbacks. An agent chooses its
// callback URL, so the full reason a delivery failed would answer questions about the network the
// server sits in: what a name resolves to ("refused: 10.0.3.7 is a private address"), where an
// internal service redirects, whether a port is open. Agents get the kind of failure; admins
// (GET /v1/audit, GET /v1/webhooks/deliveries) keep every detail.

import type { Principal } from "@countersign/core";

/** The coarse form of a delivery error an agent sees. */
export function coarseDeliveryError(error: string): string {
  if (error.startsWith("refused:"))
    return "refused: the server's outbound policy does not allow this address";
  const redirect = /^redirect refused: HTTP (\d{3})/.exec(error);
  if (redirect) return `redirect refused: HTTP ${redirect[1]}`;
  // Our own words, or the receiver's status: nothing about the network in them.
  if (
    /^HTTP \d{3}$/.test(error) ||
    error.startsWith("no response within") ||
    error.startsWith("interrupted:")
  ) {
    return error;
  }
  return "could not connect";
}

/**
 * An audit entry as `by` may see it (beside requestViewFor, which does the same for requests): for
 * an agent, a `webhook.*` entry's `data.error` made coarse and marked `error_redacted: true` where
 * it was (the entry's hash is over the full, stored data); everyone else sees it as stored.
 */
export function auditEntryViewFor<T extends { kind: string; data: Record<string, unknown> }>(
  by: Principal,
  entry: T,
): T {
  if (by.role !== "agent" || !entry.kind.startsWith("webhook.")) return entry;
  const error = entry.data.error;
  if (typeof error !== "string") return entry;
  const coarse = coarseDeliveryError(error);
  if (coarse === error) return entry;
  return { ...entry, data: { ...entry.data, error: coarse, error_redacted: true } };
}
