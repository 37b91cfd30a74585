import type {
  BetaManagedAgentsSessionEvent,
  BetaManagedAgentsStreamSessionEvents,
} from "@anthropic-ai/sdk/resources/beta/sessions/events";
import type { ApprovalRequest } from "@countersign/sdk";
import { type DeliveryResult, deliver } from "./delivery.ts";
import { replyFor, requestFor } from "./responder.ts";
import {
  type BlockingEvent,
  type BridgeCountersign,
  type CustomToolHandler,
  type DeliveryOptions,
  isBlockingEvent,
  type RequestExtras,
  type SessionsClient,
} from "./types.ts";

export interface ManagedAgentsBridgeOptions {
  /** An `Anthropic` client (`new Anthropic()`), or anything with its `beta.sessions.events`. */
  anthropic: SessionsClient;
  /** A Countersign client with an agent key. */
  countersign: BridgeCountersign;
  /**
   * The custom tools this bridge runs once approved, by name. Custom tool uses with no handler
   * here are left alone, for another part of your application to answer.
   */
  customTools?: Record<string, CustomToolHandler>;
  /** Fields for each approval request (who decides, TTL, priority…), fixed or per event. */
  request?: RequestExtras | ((event: BlockingEvent, sessionId: string) => RequestExtras);
  delivery?: DeliveryOptions;
  /** How long each long-poll for a decision is held, 1–60 s. */
  pollSeconds?: number;
  /** Told about failures the bridge recovers from or cannot act on (a lost stream, a dead letter). */
  onError?: (error: unknown, context: { sessionId: string; eventId?: string }) => void;
}

export interface WatchOptions {
  signal?: AbortSignal;
  /** Stop once the session goes idle for any reason but `requires_action` with nothing left to answer. */
  untilIdle?: boolean;
}

/** What became of one blocking event. */
export interface BlockingOutcome {
  eventId: string;
  eventType: BlockingEvent["type"];
  requestId: string;
  status: ApprovalRequest["status"];
  /** The response sent (or dead-lettered). */
  reply: { type: string; result?: string };
  delivery: DeliveryResult;
}

const STREAM_BACKOFF_MS = { start: 250, cap: 10_000 };

/**
 * Routes a Claude Managed Agents session's blocking events through Countersign. It streams the
 * session's events; on `session.status_idle` with `stop_reason.type = requires_action` it makes
 * one approval request per id in `stop_reason.event_ids` (external id
 * `claude:{session_id}:{event_id}`, correlation id = session id), waits for each decision without
 * blocking the others, and answers the session.
 *
 * Replayed idle events, a reconnected stream and a restarted bridge create no second request and
 * send no second answer: requests are idempotent on their external id, and the session's history
 * (`events.list`) says which events were answered already.
 */
export class ManagedAgentsBridge {
  private readonly options: ManagedAgentsBridgeOptions;

  constructor(options: ManagedAgentsBridgeOptions) {
    if (!options?.anthropic || !options.countersign) {
      throw new TypeError("ManagedAgentsBridge needs { anthropic, countersign }");
    }
    this.options = options;
  }

  /**
   * Watches one session until it terminates or is deleted, `signal` aborts, or (`untilIdle`) it
   * goes idle with nothing to answer. Resolves with what became of every blocking event handled.
   */
  async watch(sessionId: string, watch: WatchOptions = {}): Promise<BlockingOutcome[]> {
    const session = new SessionWatch(sessionId, this.options, watch.signal);
    return session.run(watch.untilIdle === true);
  }
}

/** The state of watching one session: what has been seen, answered, and is being decided. */
class SessionWatch {
  private readonly sessionId: string;
  private readonly options: ManagedAgentsBridgeOptions;
  private readonly signal: AbortSignal | undefined;
  private readonly events = new Map<
    string,
    BetaManagedAgentsSessionEvent | BetaManagedAgentsStreamSessionEvents
  >();
  private readonly answered = new Set<string>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly outcomes: BlockingOutcome[] = [];
  private lastIdleEnded = false;
  private untilIdle = false;
  private finished = false;
  /** Ends the stream: when the caller aborts, or when an `untilIdle` watch is done. */
  private readonly streamStop = new AbortController();

  constructor(sessionId: string, options: ManagedAgentsBridgeOptions, signal: AbortSignal | undefined) {
    this.sessionId = sessionId;
    this.options = options;
    this.signal = signal;
  }

  async run(untilIdle: boolean): Promise<BlockingOutcome[]> {
    this.untilIdle = untilIdle;
    const stopStream = () => this.streamStop.abort();
    if (this.signal?.aborted) stopStream();
    this.signal?.addEventListener("abort", stopStream, { once: true });
    const events = this.options.anthropic.beta.sessions.events;
    let backoff = STREAM_BACKOFF_MS.start;
    try {
      while (!this.streamStop.signal.aborted) {
        try {
          // Attach first, then read the history: whatever happens in between arrives on the stream.
          const stream = await events.stream(this.sessionId, {}, { signal: this.streamStop.signal });
          await this.reconcile();
          this.finishIfSettled();
          for await (const event of stream) {
            backoff = STREAM_BACKOFF_MS.start;
            const verdict = this.observe(event);
            if (verdict === "ended") this.finish();
            else if (verdict === "idle") this.finishIfSettled();
            if (this.finished) break;
          }
        } catch (error) {
          if (this.streamStop.signal.aborted) break;
          if (isFatal(error)) throw error;
          this.options.onError?.(error, { sessionId: this.sessionId });
        }
        if (!this.streamStop.signal.aborted) {
          await pause(backoff, this.streamStop.signal);
          backoff = Math.min(backoff * 2, STREAM_BACKOFF_MS.cap);
        }
      }
    } finally {
      this.signal?.removeEventListener("abort", stopStream);
      await Promise.allSettled(this.inFlight.values());
    }
    return this.outcomes;
  }

  private finish(): void {
    this.finished = true;
    this.streamStop.abort();
  }

  /** An `untilIdle` watch ends once nothing is being decided and the session last idled for good. */
  private finishIfSettled(): void {
    if (this.untilIdle && this.inFlight.size === 0 && this.lastIdleEnded) this.finish();
  }

  /** Reads the session's history: caches events, notes answered ones, resumes an unanswered idle. */
  private async reconcile(): Promise<void> {
    let pendingIdle: string[] | undefined;
    for await (const event of this.options.anthropic.beta.sessions.events.list(this.sessionId, {
      limit: 1000,
    })) {
      this.remember(event);
      if (event.type === "session.status_idle") {
        pendingIdle = event.stop_reason.type === "requires_action" ? event.stop_reason.event_ids : undefined;
        this.lastIdleEnded = event.stop_reason.type !== "requires_action";
      }
    }
    if (pendingIdle) this.handleIdle(pendingIdle);
  }

  /** One event from the stream: `ended` when the session is over, `idle` when it rests with nothing asked. */
  private observe(event: BetaManagedAgentsStreamSessionEvents): "ended" | "idle" | "busy" {
    this.remember(event);
    if (event.type === "session.status_terminated" || event.type === "session.deleted") return "ended";
    if (event.type !== "session.status_idle") return "busy";
    if (event.stop_reason.type === "requires_action") {
      this.lastIdleEnded = false;
      this.handleIdle(event.stop_reason.event_ids);
      return "busy";
    }
    this.lastIdleEnded = true;
    return "idle";
  }

  private remember(event: BetaManagedAgentsSessionEvent | BetaManagedAgentsStreamSessionEvents): void {
    // Streamed deltas carry no id of their own; only whole events are kept.
    if ("id" in event && typeof event.id === "string") this.events.set(event.id, event);
    if (event.type === "user.tool_confirmation" || event.type === "user.tool_result")
      this.answered.add(event.tool_use_id);
    if (event.type === "user.custom_tool_result") this.answered.add(event.custom_tool_use_id);
  }

  private handleIdle(eventIds: string[]): void {
    for (const eventId of eventIds) {
      if (this.answered.has(eventId) || this.inFlight.has(eventId)) continue;
      const task = this.handleEvent(eventId)
        .catch((error) => {
          // Stopping the bridge abandons the waits; the requests stay open for the next watch.
          if (!this.signal?.aborted) this.options.onError?.(error, { sessionId: this.sessionId, eventId });
        })
        .finally(() => {
          this.inFlight.delete(eventId);
          this.finishIfSettled();
        });
      this.inFlight.set(eventId, task);
    }
  }

  private async handleEvent(eventId: string): Promise<void> {
    const event = this.events.get(eventId) ?? (await this.find(eventId));
    if (!event || !isBlockingEvent(event)) {
      throw new Error(`blocking event ${eventId} is not a tool use this bridge can decide`);
    }
    if (event.type === "agent.custom_tool_use" && !this.options.customTools?.[event.name]) return;

    const extras =
      typeof this.options.request === "function"
        ? this.options.request(event, this.sessionId)
        : (this.options.request ?? {});
    const countersign = this.options.countersign;
    const { request } = await countersign.createRequest(requestFor(this.sessionId, event, extras), {
      ...(this.signal ? { signal: this.signal } : {}),
    });
    const decided =
      request.status === "pending"
        ? await countersign.waitForDecision(request.id, {
            ...(this.options.pollSeconds ? { pollSeconds: this.options.pollSeconds } : {}),
            ...(this.signal ? { signal: this.signal } : {}),
          })
        : request;
    // Answered meanwhile (another bridge, a person): nothing more to send.
    if (this.answered.has(eventId)) return;
    const reply = await replyFor(event, decided, {
      sessionId: this.sessionId,
      countersign,
      customTools: this.options.customTools ?? {},
    });
    const delivery = await deliver(
      { anthropic: this.options.anthropic, countersign, sessionId: this.sessionId, signal: this.signal },
      reply,
      { event, requestId: request.id },
      this.options.delivery,
    );
    if (delivery.delivered) this.answered.add(eventId);
    this.outcomes.push({
      eventId,
      eventType: event.type,
      requestId: request.id,
      status: decided.status,
      reply: { type: reply.type, ...("result" in reply ? { result: reply.result } : {}) },
      delivery,
    });
    if (!delivery.delivered) {
      this.options.onError?.(new Error(`response to ${eventId} dead-lettered: ${delivery.error}`), {
        sessionId: this.sessionId,
        eventId,
      });
    }
  }

  /** An event not seen on the stream or in the first history read (it may be older than one page). */
  private async find(eventId: string) {
    for await (const event of this.options.anthropic.beta.sessions.events.list(this.sessionId, {
      limit: 1000,
    })) {
      this.remember(event);
      if (event.id === eventId) return event;
    }
    return undefined;
  }
}

/** A 4xx other than 408/409/429 on the stream itself (bad key, unknown session): retrying cannot help. */
function isFatal(error: unknown): boolean {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === "number" && status >= 400 && status < 500 && ![408, 409, 429].includes(status);
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
