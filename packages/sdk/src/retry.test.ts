import { describe, expect, it } from "vitest";
import { backoffDelay, DEFAULT_RETRY, resolveRetryPolicy, retryAfterMs, sleep } from "./retry.ts";

describe("backoffDelay", () => {
  const policy = { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 1000 };

  it("doubles its ceiling with every retry, up to maxDelayMs", () => {
    const top = () => 0.999999;
    expect(backoffDelay(1, policy, top)).toBe(99);
    expect(backoffDelay(2, policy, top)).toBe(199);
    expect(backoffDelay(3, policy, top)).toBe(399);
    expect(backoffDelay(4, policy, top)).toBe(799);
    expect(backoffDelay(5, policy, top)).toBe(999);
    expect(backoffDelay(50, policy, top)).toBe(999);
  });

  it("spreads delays over the whole range (full jitter)", () => {
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(200);
    for (let i = 0; i < 200; i++) {
      const delay = backoffDelay(4, policy);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(800);
    }
  });
});

describe("resolveRetryPolicy", () => {
  it("fills in defaults, and `false` means a single attempt", () => {
    expect(resolveRetryPolicy(undefined)).toEqual(DEFAULT_RETRY);
    expect(resolveRetryPolicy({ maxAttempts: 2 })).toEqual({ ...DEFAULT_RETRY, maxAttempts: 2 });
    expect(resolveRetryPolicy({ maxAttempts: undefined } as never)).toEqual(DEFAULT_RETRY);
    expect(resolveRetryPolicy(false).maxAttempts).toBe(1);
  });

  it("refuses nonsense", () => {
    expect(() => resolveRetryPolicy({ maxAttempts: 0 })).toThrow(RangeError);
    expect(() => resolveRetryPolicy({ maxAttempts: 1.5 })).toThrow(RangeError);
    expect(() => resolveRetryPolicy({ baseDelayMs: -1 })).toThrow(RangeError);
    expect(() => resolveRetryPolicy({ maxDelayMs: Number.NaN })).toThrow(RangeError);
  });
});

describe("retryAfterMs", () => {
  it("reads seconds and HTTP dates", () => {
    expect(retryAfterMs(new Headers({ "retry-after": "3" }))).toBe(3000);
    const now = Date.parse("2025-06-01T12:00:00Z");
    expect(retryAfterMs(new Headers({ "retry-after": "Sun, 01 Jun 2025 12:00:05 GMT" }), now)).toBe(5000);
    expect(retryAfterMs(new Headers({ "retry-after": "Sun, 01 Jun 2025 11:00:00 GMT" }), now)).toBe(0);
  });

  it("ignores absent and unreadable values", () => {
    expect(retryAfterMs(new Headers())).toBeUndefined();
    expect(retryAfterMs(new Headers({ "retry-after": "soon" }))).toBeUndefined();
    expect(retryAfterMs(new Headers({ "retry-after": "-1" }))).toBeUndefined();
  });
});

describe("sleep", () => {
  it("rejects with the abort reason as soon as the signal aborts", async () => {
    const controller = new AbortController();
    const reason = new Error("stop");
    const started = performance.now();
    const pending = sleep(60_000, controller.signal);
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("rejects at once for an aborted signal, with an AbortError when no reason was given", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(sleep(10, controller.signal)).rejects.toMatchObject({ name: "AbortError" });
  });
});
