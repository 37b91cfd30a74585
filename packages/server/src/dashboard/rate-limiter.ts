import type { Clock } from "@countersign/core";

export interface LimitVerdict {
  allowed: boolean;
  /** Seconds until the next attempt is allowed (when refused). */
  retryAfterSeconds: number;
}

/**
 * Counts attempts per key in fixed windows. In memory: with several replicas each keeps its own
 * counts, so the effective limit is the per-replica limit times the number of replicas — still a
 * hard bound on guessing.
 */
export class AttemptLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly clock: Clock;
  private readonly maxKeys: number;

  constructor(options: { limit: number; windowMs: number; clock: Clock; maxKeys?: number }) {
    this.limit = options.limit;
    this.windowMs = options.windowMs;
    this.clock = options.clock;
    this.maxKeys = options.maxKeys ?? 100_000;
  }

  /** Is another attempt allowed now? Does not count one. */
  check(key: string): LimitVerdict {
    const now = this.clock.now();
    const w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs || w.count < this.limit) {
      return { allowed: true, retryAfterSeconds: 0 };
    }
    return {
      allowed: false,
      retryAfterSeconds: Math.max(1, Math.ceil((w.start + this.windowMs - now) / 1000)),
    };
  }

  /** Counts an attempt. */
  hit(key: string): void {
    const now = this.clock.now();
    const w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) {
      if (this.windows.size >= this.maxKeys) this.prune(now);
      this.windows.set(key, { start: now, count: 1 });
    } else {
      w.count++;
    }
  }

  /** How many keys are being tracked (bounded by `maxKeys`). */
  get size(): number {
    return this.windows.size;
  }

  reset(key: string): void {
    this.windows.delete(key);
  }

  private prune(now: number): void {
    for (const [key, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(key);
    // Still full of live windows (a flood of distinct keys): drop the oldest half rather than grow.
    if (this.windows.size >= this.maxKeys) {
      let drop = Math.floor(this.windows.size / 2);
      for (const key of this.windows.keys()) {
        if (drop-- <= 0) break;
        this.windows.delete(key);
      }
    }
  }
}
