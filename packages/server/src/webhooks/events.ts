import type { AuditEntry } from "@countersign/core";

/** Every event type an endpoint can subscribe to. */
export const EVENT_TYPES = [
  "request.created",
  "request.decided",
  "request.cancelled",
  "request.timed_out",
  "govern.denied",
  "action.logged",
  "kill_switch.changed",
  "delivery.dead_lettered",
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** The events a request's own `callback_url` receives. */
export const CALLBACK_EVENT_TYPES: ReadonlySet<EventType> = new Set([
  "request.decided",
  "request.cancelled",
  "request.timed_out",
]);

/** The audit kind a dead letter is recorded under; it becomes a `delivery.dead_lettered` event. */
export const DEAD_LETTER_KIND = "webhook.dead_lettered";

const BY_KIND: Record<string, EventType> = {
  "request.created": "request.created",
  "request.approved": "request.decided",
  "request.rejected": "request.decided",
  "request.answered": "request.decided",
  "request.cancelled": "request.cancelled",
  "request.timed_out": "request.timed_out",
  "govern.denied": "govern.denied",
  "action.logged": "action.logged",
  "kill_switch.changed": "kill_switch.changed",
  [DEAD_LETTER_KIND]: "delivery.dead_lettered",
};

/**
 * The event an audit entry announces, if any. Delivery bookkeeping (`webhook.delivered`,
 * `webhook.failed`, …) announces nothing, and neither does the dead letter of a dead-letter
 * notification: a receiver that is down must not feed an endless chain of events about itself.
 */
export function eventTypeOf(entry: AuditEntry): EventType | undefined {
  const type = BY_KIND[entry.kind];
  if (type === "delivery.dead_lettered" && entry.data.event_type === "delivery.dead_lettered")
    return undefined;
  return type;
}

/**
 * The message id (`webhook-id`) of the event an audit entry announces. Derived from the entry's
 * sequence number and hash, so it is stable across retries and redrives, and unique across
 * databases (two installations both have a seq 1, not the same hash).
 */
export function messageIdOf(entry: Pick<AuditEntry, "seq" | "hash">): string {
  return `msg_${entry.seq}_${entry.hash.slice(0, 16)}`;
}

/** The audit entry a message id names (the inverse of `messageIdOf`): its seq and hash prefix. */
export function announcedEntryOf(messageId: string): { seq: number; hashPrefix: string } | undefined {
  const match = /^msg_(\d{1,15})_([0-9a-f]{16})$/.exec(messageId);
  if (!match?.[1] || !match[2]) return undefined;
  return { seq: Number(match[1]), hashPrefix: match[2] };
}

export function isEventType(value: string): value is EventType {
  return (EVENT_TYPES as readonly string[]).includes(value);
}
