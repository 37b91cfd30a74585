import type { Clock } from "@countersign/core";
import type { Store } from "../storage/store.ts";
import type { LimitVerdict } from "./rate-limiter.ts";

/**
 * Counts sign-in attempts per key (an account, or a trusted browser of one) in the database, so
 * every replica shares one count: kept in each process's memory, N replicas allowed N times the
 * guesses at one account. Fixed windows that open with the first attempt.
 *
 * An attempt is counted when it starts, atomically with the check, and a successful sign-in clears
 * the count. Checking first and counting after the (slow) password check let a burst of parallel
 * attempts all pass the check before any was counted.
 */
export class SharedAttemptLimiter {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly limit: number;
  private readonly windowMs: number;

  constructor(options: { store: Store; clock: Clock; limit: number; windowMs: number }) {
    this.store = options.store;
    this.clock = options.clock;
    this.limit = options.limit;
    this.windowMs = options.windowMs;
  }

  /** Counts an attempt; refused when it is past the limit of the current window. */
  async take(key: string): Promise<LimitVerdict> {
    const now = this.clock.now();
    const nowIso = new Date(now).toISOString();
    // A window that opened this long ago (or earlier) has ended: the attempt opens a new one.
    const endedIso = new Date(now - this.windowMs).toISOString();
    const row = await this.store.write(async (ctx) => {
      const [counted] = await ctx.db
        .insertInto("sign_in_failures")
        .values({ key, window_start: nowIso, failures: 1 })
        .onConflict((oc) =>
          oc.column("key").doUpdateSet((eb) => {
            const ended = eb("sign_in_failures.window_start", "<=", endedIso);
            return {
              failures: eb
                .case()
                .when(ended)
                .then(1)
                .else(eb("sign_in_failures.failures", "+", 1))
                .end(),
              window_start: eb
                .case()
                .when(ended)
                .then(nowIso)
                .else(eb.ref("sign_in_failures.window_start"))
                .end(),
            };
          }),
        )
        .returning(["failures", "window_start"])
        .execute();
      // Ended windows are of no further use: the table holds only live counts.
      await ctx.db.deleteFrom("sign_in_failures").where("window_start", "<=", endedIso).execute();
      return counted;
    });
    if (!row || Number(row.failures) <= this.limit) return { allowed: true, retryAfterSeconds: 0 };
    const retry = Math.ceil((Date.parse(row.window_start) + this.windowMs - now) / 1000);
    return { allowed: false, retryAfterSeconds: Math.max(1, retry) };
  }

  /** Forgets the key's attempts (after a successful sign-in). */
  async reset(key: string): Promise<void> {
    await this.store.write(async (ctx) => {
      await ctx.db.deleteFrom("sign_in_failures").where("key", "=", key).execute();
    });
  }
}
