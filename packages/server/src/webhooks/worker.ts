import { randomUUID } from "node:crypto";
import { type AuditDraft, type Clock, SYSTEM_ACTOR } from "@countersign/core";
import type { Store } from "../storage/store.ts";
import { PeriodicWorker } from "../workers/periodic.ts";
import { DEAD_LETTER_KIND } from "./events.ts";
import type { OutboundClient, SendResult } from "./outbound.ts";
import {
  claimDue,
  type DeliveryRow,
  getLeasedDelivery,
  getMessageBodies,
  insertAttempt,
  renewLease,
  updateDelivery,
} from "./repo.ts";
import { redactUrl } from "./resources.ts";
import { nextDelayMs } from "./schedule.ts";
import type { SigningKeys } from "./secrets.ts";
import { webhookHeaders } from "./signing.ts";

/** What a delivery is sent with, or why it can no longer be sent. */
export type TargetResolution = { url: string; keys: SigningKeys } | { cancel: string };

export interface DeliveryWorkerOptions {
  store: Store;
  clock: Clock;
  /** The client for admins' endpoints and the one for agents' callbacks (each with its own allow-list). */
  clients: { endpoint: OutboundClient; callback: OutboundClient };
  /** Signing keys and URL for a delivery (the endpoint may have been deleted or its secret rotated). */
  resolve: (delivery: DeliveryRow) => Promise<TargetResolution>;
  schedule: readonly number[];
  /**
   * How long a claim holds a delivery (default 5 s). An attempt still running at half of it renews
   * it, so a slow receiver keeps its lease while a crashed process's leases lapse quickly.
   */
  leaseMs?: number;
  /** Attempts in flight at once (default 32). */
  concurrency?: number;
  /** How often due retries and deliveries left by a crashed process are looked for. */
  sweepMs: number;
  /** How long `stop()` lets attempts in flight finish before interrupting them (default 2 s). */
  stopGraceMs?: number;
  random?: () => number;
  onError: (error: unknown, context: string) => void;
}

interface Job {
  delivery: DeliveryRow;
  body: string;
  token: string;
}

/**
 * Sends due deliveries. Woken right after a commit that enqueued some (so the first attempt is
 * immediate), by its own timer when a retry falls due, and by a periodic sweep that also finds
 * deliveries another process claimed and never finished (it crashed: its lease ran out).
 *
 * A claim writes a lease (`locked_until`) before anything is sent; the outcome is recorded only if
 * the lease is still ours. A process killed mid-attempt therefore leaves the delivery pending, and it
 * is sent again once the lease expires: delivery is at least once, under one `webhook-id`.
 */
export class DeliveryWorker {
  private readonly o: Required<Omit<DeliveryWorkerOptions, "random">> & { random: () => number };
  private readonly sweep: PeriodicWorker;
  private readonly inflight = new Map<string, { done: Promise<void>; abort: AbortController }>();
  private pumping: Promise<void> | undefined;
  private wanted = false;
  /** A claim filled every free slot: there may be more due work than capacity. */
  private backlog = false;
  private started = false;
  private stopping = false;
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeAt = Number.POSITIVE_INFINITY;

  constructor(options: DeliveryWorkerOptions) {
    this.o = {
      leaseMs: 5_000,
      concurrency: 32,
      stopGraceMs: 2_000,
      random: Math.random,
      ...options,
    };
    this.sweep = new PeriodicWorker({
      name: "webhook-delivery",
      intervalMs: this.o.sweepMs,
      tick: async () => {
        this.poke();
        await this.pumping;
        return false;
      },
      onError: (error) => this.o.onError(error, "webhook sweep"),
    });
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.sweep.start();
  }

  /** Look for due deliveries now (coalesced: many pokes while a claim runs make one more claim). */
  poke(): void {
    if (!this.started || this.stopping) return;
    this.wanted = true;
    this.pumping ??= this.pump().finally(() => {
      this.pumping = undefined;
      // A poke that landed between the loop's last check and here must not be lost.
      if (this.wanted) this.poke();
    });
  }

  /** Stop claiming; give attempts in flight a moment, then interrupt them (they stay pending). */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    await this.sweep.stop();
    await this.pumping;
    const pending = [...this.inflight.values()];
    if (pending.length > 0) {
      const grace = setTimeout(() => {
        for (const job of pending) job.abort.abort();
      }, this.o.stopGraceMs);
      await Promise.allSettled(pending.map((p) => p.done));
      clearTimeout(grace);
    }
  }

  private async pump(): Promise<void> {
    while (this.wanted && !this.stopping) {
      this.wanted = false;
      const free = this.o.concurrency - this.inflight.size;
      if (free <= 0) {
        this.backlog = true; // a finishing attempt pokes again
        return;
      }
      let jobs: Job[];
      try {
        jobs = await this.claim(free);
      } catch (error) {
        this.o.onError(error, "claiming webhook deliveries");
        return;
      }
      this.backlog = jobs.length === free;
      if (this.backlog) this.wanted = true; // there may be more
      for (const job of jobs) this.dispatch(job);
    }
  }

  private async claim(limit: number): Promise<Job[]> {
    const token = randomUUID();
    return this.o.store.write(async (ctx) => {
      const now = this.o.clock.now();
      const rows = await claimDue(ctx.db, ctx.dialect, {
        now: new Date(now).toISOString(),
        leaseUntil: new Date(now + this.o.leaseMs).toISOString(),
        token,
        limit,
      });
      if (rows.length === 0) return [];
      const bodies = await getMessageBodies(
        ctx.db,
        rows.map((r) => r.message_id),
      );
      return rows.map((delivery) => ({ delivery, body: bodies.get(delivery.message_id) ?? "", token }));
    });
  }

  private dispatch(job: Job): void {
    const abort = new AbortController();
    const renewal = setInterval(() => void this.renew(job, abort), Math.max(10, this.o.leaseMs / 2));
    renewal.unref();
    const done = this.attempt(job, abort.signal)
      .catch((error) => this.o.onError(error, `webhook delivery ${job.delivery.id}`))
      .finally(() => {
        clearInterval(renewal);
        this.inflight.delete(job.delivery.id);
        if (this.backlog) this.poke();
      });
    this.inflight.set(job.delivery.id, { done, abort });
  }

  /** Extends the lease of an attempt still in flight; if it was lost meanwhile, stops the attempt. */
  private async renew(job: Job, abort: AbortController): Promise<void> {
    try {
      const kept = await this.o.store.write(async (ctx) => {
        const now = this.o.clock.now();
        return renewLease(ctx.db, job.delivery.id, job.token, {
          leaseUntil: new Date(now + this.o.leaseMs).toISOString(),
          now: new Date(now).toISOString(),
        });
      });
      if (!kept) abort.abort();
    } catch (error) {
      this.o.onError(error, `renewing the lease of webhook delivery ${job.delivery.id}`);
    }
  }

  private async attempt(job: Job, signal: AbortSignal): Promise<void> {
    const startedAt = this.o.clock.now();
    let target: TargetResolution;
    try {
      target = await this.o.resolve(job.delivery);
    } catch (error) {
      // Cannot sign (a secret sealed under another key, say): a failed attempt, visible and retried.
      const message = error instanceof Error ? error.message : String(error);
      await this.record(job, startedAt, {
        outcome: "failed",
        statusCode: null,
        error: `not sent: ${message}`,
        response: null,
        durationMs: 0,
        abort: false,
      });
      return;
    }
    if ("cancel" in target) {
      await this.record(job, startedAt, { cancel: target.cancel });
      return;
    }
    const headers = webhookHeaders(target.keys, job.delivery.message_id, startedAt, job.body);
    const client = job.delivery.target === "callback" ? this.o.clients.callback : this.o.clients.endpoint;
    const result = await client.send(target.url, headers, job.body, signal);
    await this.record(job, startedAt, result);
  }

  /** Records an attempt's outcome, if this worker still holds the delivery's lease. */
  private async record(job: Job, startedAt: number, result: SendResult | { cancel: string }): Promise<void> {
    const retryAt = await this.o.store.write(async (ctx) => {
      const row = await getLeasedDelivery(ctx.db, ctx.dialect, job.delivery.id, job.token);
      if (!row) return undefined; // lease lost (another worker took over) or cancelled meanwhile
      const now = this.o.clock.now();
      const at = new Date(now).toISOString();
      const release = { locked_until: null, lease_token: null, updated_at: at };
      if ("cancel" in result) {
        await updateDelivery(ctx.db, row.id, {
          ...release,
          status: "cancelled",
          next_attempt_at: null,
          last_error: result.cancel,
        });
        return undefined;
      }
      const attempt = Number(row.attempt_count) + 1;
      await insertAttempt(ctx.db, {
        delivery_id: row.id,
        attempt,
        at: new Date(startedAt).toISOString(),
        duration_ms: result.durationMs,
        outcome: result.outcome,
        status_code: result.statusCode,
        error: result.error,
        response: result.response,
      });
      if (result.outcome === "interrupted") {
        // This process is stopping: logged, but it does not count against the retry schedule, and
        // the delivery is due again at once, for whichever process is up.
        await updateDelivery(ctx.db, row.id, { ...release, attempt_count: attempt });
        return undefined;
      }
      const cycle = Number(row.cycle_attempts) + 1;
      const base = {
        delivery_id: row.id,
        message_id: row.message_id,
        event_type: row.event_type,
        target: row.target,
        endpoint_id: row.endpoint_id,
        url: redactUrl(row.url),
        attempt,
        status_code: result.statusCode,
        duration_ms: result.durationMs,
      };
      const audit = (kind: string, data: Record<string, unknown>): AuditDraft => ({
        at,
        kind,
        subject_id: row.id,
        correlation_id: row.correlation_id,
        actor: SYSTEM_ACTOR,
        data: { ...base, ...data },
      });
      const counts = { ...release, attempt_count: attempt, cycle_attempts: cycle };

      if (result.outcome === "delivered") {
        await updateDelivery(ctx.db, row.id, {
          ...counts,
          status: "delivered",
          delivered_at: at,
          next_attempt_at: null,
          last_error: null,
        });
        await ctx.appendAudit([audit("webhook.delivered", {})], row.owner_key_id);
        return undefined;
      }
      if (result.abort) {
        await updateDelivery(ctx.db, row.id, {
          ...counts,
          status: "aborted",
          next_attempt_at: null,
          last_error: `${result.error ?? "failed"} (receiver answered webhook-delivery: abort-message)`,
        });
        await ctx.appendAudit(
          [audit("webhook.failed", { error: result.error, aborted: true, final: true })],
          row.owner_key_id,
        );
        return undefined;
      }
      const delay = nextDelayMs(this.o.schedule, cycle, this.o.random);
      if (delay === undefined) {
        await updateDelivery(ctx.db, row.id, {
          ...counts,
          status: "dead",
          dead_lettered_at: at,
          next_attempt_at: null,
          last_error: result.error,
        });
        // The dead letter becomes a `delivery.dead_lettered` event through the outbox listener.
        await ctx.appendAudit(
          [
            audit("webhook.failed", { error: result.error, final: true }),
            audit(DEAD_LETTER_KIND, { error: result.error, attempts: attempt }),
          ],
          row.owner_key_id,
        );
        return undefined;
      }
      const next = now + delay;
      await updateDelivery(ctx.db, row.id, {
        ...counts,
        next_attempt_at: new Date(next).toISOString(),
        last_error: result.error,
      });
      await ctx.appendAudit(
        [audit("webhook.failed", { error: result.error, next_attempt_at: new Date(next).toISOString() })],
        row.owner_key_id,
      );
      return next;
    });
    if (retryAt !== undefined) this.wakeBy(retryAt);
  }

  /** Make sure a claim runs by `at` (a retry this process scheduled), sooner than the sweep would. */
  private wakeBy(at: number): void {
    if (this.stopping || at >= this.wakeAt) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = setTimeout(
      () => {
        this.wakeAt = Number.POSITIVE_INFINITY;
        this.wakeTimer = undefined;
        this.poke();
      },
      Math.max(0, at - this.o.clock.now()),
    );
    this.wakeTimer.unref();
  }
}
