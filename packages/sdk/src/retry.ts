/*
 * Retry timing for transient failures (network errors, per-attempt timeouts, 429, 5xx).
 *
 * Backoff is exponential with "full jitter": before retry n (1, 2, …) the client waits a uniformly
 * random time in [0, min(maxDelayMs, baseDelayMs · 2^(n-1))]. The randomness spreads out many
 * agents that lost the same server at the same moment, so they do not all come back in lockstep.
 * A `Retry-After` the server sends is honoured when it fits under `maxDelayMs`; a longer one ends
 * the retries at once, since asking again sooner would only be refused again.
 */

export interface RetryOptions {
  /** Attempts in total, the first included; 1 turns retries off. Default 4. */
  maxAttempts?: number;
  /** Upper bound of the first backoff. Default 200 ms. */
  baseDelayMs?: number;
  /** Upper bound of any single backoff (and of an honoured `Retry-After`). Default 5000 ms. */
  maxDelayMs?: number;
}

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 200, maxDelayMs: 5000 };

/** `false` means no retries at all. */
export function resolveRetryPolicy(options: RetryOptions | false | undefined): RetryPolicy {
  if (options === false) return { ...DEFAULT_RETRY, maxAttempts: 1 };
  const policy = { ...DEFAULT_RETRY, ...definedOnly(options ?? {}) };
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) {
    throw new RangeError("retry.maxAttempts must be an integer ≥ 1");
  }
  if (!(policy.baseDelayMs >= 0) || !(policy.maxDelayMs >= 0)) {
    throw new RangeError("retry delays must be non-negative numbers");
  }
  return policy;
}

function definedOnly(options: RetryOptions): RetryOptions {
  const out: RetryOptions = {};
  if (options.maxAttempts !== undefined) out.maxAttempts = options.maxAttempts;
  if (options.baseDelayMs !== undefined) out.baseDelayMs = options.baseDelayMs;
  if (options.maxDelayMs !== undefined) out.maxDelayMs = options.maxDelayMs;
  return out;
}

/** The wait before retry number `retry` (1-based), with full jitter. */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

/** `Retry-After` in milliseconds (delta-seconds or an HTTP date), or undefined if absent or unreadable. */
export function retryAfterMs(headers: Headers, now: number = Date.now()): number | undefined {
  const value = headers.get("retry-after")?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // An HTTP date names its weekday and month; Date.parse alone would also take "-1" as a year.
  if (!/^[A-Za-z]{3}, /.test(value)) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** What an aborted signal rejects with: its reason, or a standard AbortError where there is none. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The operation was aborted.", "AbortError");
}

/** Resolves after `ms`, or rejects with the abort reason as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
