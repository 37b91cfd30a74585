import {
  type BlockingEvent,
  type BridgeCountersign,
  type DeliveryOptions,
  INTEGRATION,
  type ReplyEvent,
  type SessionsClient,
} from "./types.ts";

/*
 * Sending a decision back to the session. A decision is already durable in Countersign, so a send
 * that fails is retried with bounded, jittered backoff; when the attempts run out the response is
 * written to the case as a dead-letter action (with the full response event, so it can be sent by
 * hand) instead of being lost. Every delivered response is logged in the case too.
 */

export const ACTIONS = {
  delivered: "claude_managed_agents.response_delivered",
  deadLettered: "claude_managed_agents.response_dead_lettered",
} as const;

export interface DeliveryContext {
  anthropic: SessionsClient;
  countersign: BridgeCountersign;
  sessionId: string;
  signal: AbortSignal | undefined;
}

export interface DeliveryResult {
  delivered: boolean;
  attempts: number;
  error: string | null;
}

const DEFAULTS: Required<DeliveryOptions> = { attempts: 6, baseDelayMs: 250, maxDelayMs: 10_000 };

export async function deliver(
  ctx: DeliveryContext,
  reply: ReplyEvent,
  about: { event: BlockingEvent; requestId: string },
  options: DeliveryOptions = {},
): Promise<DeliveryResult> {
  const policy = { ...DEFAULTS, ...definedOnly(options) };
  let lastError: unknown;
  let attempts = 0;
  let delivered = false;
  while (!delivered && attempts < policy.attempts) {
    attempts++;
    try {
      // The bridge owns retries: the SDK's own would multiply them and hide the attempt count.
      await ctx.anthropic.beta.sessions.events.send(
        ctx.sessionId,
        { events: [reply] },
        { maxRetries: 0, ...(ctx.signal ? { signal: ctx.signal } : {}) },
      );
      delivered = true;
    } catch (error) {
      if (ctx.signal?.aborted) throw error;
      lastError = error;
      if (!isTransient(error)) break;
      if (attempts < policy.attempts) await sleep(backoff(attempts, policy), ctx.signal);
    }
  }
  const error = delivered ? null : describe(lastError);
  await ctx.countersign.logAction(
    record(ctx, reply, about, delivered ? "delivered" : "dead_lettered", attempts, error),
  );
  return { delivered, attempts, error };
}

function record(
  ctx: DeliveryContext,
  reply: ReplyEvent,
  about: { event: BlockingEvent; requestId: string },
  outcome: "delivered" | "dead_lettered",
  attempts: number,
  error: string | null,
) {
  const eventId = about.event.id;
  const what = reply.type === "user.tool_confirmation" ? `${reply.type} (${reply.result})` : reply.type;
  return {
    action: outcome === "delivered" ? ACTIONS.delivered : ACTIONS.deadLettered,
    summary:
      outcome === "delivered"
        ? `Sent ${what} for ${about.event.type} ${eventId}`
        : `Could not send ${what} for ${about.event.type} ${eventId} after ${attempts} attempts: ${error}`,
    source: { integration: INTEGRATION, run_id: ctx.sessionId, workflow_id: about.event.type },
    outcome: outcome === "delivered" ? "success" : "failure",
    severity: outcome === "delivered" ? ("info" as const) : ("error" as const),
    correlation_id: ctx.sessionId,
    in_reply_to: { type: "request", id: about.requestId },
    metadata: {
      session_id: ctx.sessionId,
      event_id: eventId,
      event_type: about.event.type,
      attempts,
      ...(error ? { error } : {}),
      // The response itself, so a dead letter can be sent again by hand.
      response: reply,
    },
  };
}

/** Network failures, timeouts, 408, 409 (a conflicting concurrent change), 429 and 5xx may pass on retry. */
export function isTransient(error: unknown): boolean {
  const status = (error as { status?: unknown } | null)?.status;
  if (typeof status !== "number") return true; // no response at all: a connection error
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

function backoff(attempt: number, policy: Required<DeliveryOptions>): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  // Half fixed, half random: retries spread out, yet never collapse to zero.
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(done, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    function done() {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }
  });
}

function definedOnly(options: DeliveryOptions): DeliveryOptions {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
}

export function describe(error: unknown): string {
  if (error instanceof Error) {
    const status = (error as { status?: unknown }).status;
    return typeof status === "number" ? `${status} ${error.message}` : error.message;
  }
  return String(error);
}
