import { describe, expect, it } from "vitest";
import type { Jwks } from "./governance-types.ts";
import { JwksCache } from "./jwks-cache.ts";

/* The JWKS cache on a hand-driven clock: reuse, expiry, shared fetches, aborts, failed fetches. */

interface Loader {
  load: () => Promise<Jwks>;
  calls: number;
  /** Settles the oldest pending fetch. */
  resolve(jwks: Jwks): void;
  reject(error: unknown): void;
}

function loader(): Loader {
  const pending: Array<{ resolve: (jwks: Jwks) => void; reject: (error: unknown) => void }> = [];
  const l: Loader = {
    calls: 0,
    load: () => {
      l.calls++;
      return new Promise<Jwks>((resolve, reject) => pending.push({ resolve, reject }));
    },
    resolve: (jwks) => pending.shift()?.resolve(jwks),
    reject: (error) => pending.shift()?.reject(error),
  };
  return l;
}

const KEYS_A: Jwks = { keys: [{ kid: "a" }] };
const KEYS_B: Jwks = { keys: [{ kid: "b" }] };

describe("JwksCache", () => {
  it("fetches once for concurrent callers and reuses the keys until they are maxAgeMs old", async () => {
    let now = 1_000;
    const l = loader();
    const cache = new JwksCache(l.load, 300_000, () => now);
    const first = cache.get();
    const second = cache.get();
    l.resolve(KEYS_A);
    expect(await first).toBe(KEYS_A);
    expect(await second).toBe(KEYS_A);
    now += 299_999;
    expect(await cache.get()).toBe(KEYS_A);
    expect(l.calls).toBe(1);

    now += 1;
    const expired = cache.get();
    l.resolve(KEYS_B);
    expect(await expired).toBe(KEYS_B);
    expect(l.calls).toBe(2);
  });

  it("fetches anew on refresh, whatever the keys' age", async () => {
    const l = loader();
    const cache = new JwksCache(l.load, 300_000, () => 0);
    const first = cache.get();
    l.resolve(KEYS_A);
    await first;
    const refreshed = cache.get({ refresh: true });
    l.resolve(KEYS_B);
    expect(await refreshed).toBe(KEYS_B);
    expect(await cache.get()).toBe(KEYS_B);
  });

  it("looks again for an unknown key only when the copy is old enough for a rotation to matter", async () => {
    let now = 0;
    const l = loader();
    const cache = new JwksCache(l.load, 300_000, () => now);
    const first = cache.get();
    l.resolve(KEYS_A);
    await first;
    now = 9_999;
    expect(await cache.refreshForUnknownKey()).toBeUndefined();
    expect(l.calls).toBe(1);
    now = 10_000;
    const fresh = cache.refreshForUnknownKey();
    l.resolve(KEYS_B);
    expect(await fresh).toBe(KEYS_B);
  });

  it("ends an aborted caller's wait without failing the others sharing the fetch", async () => {
    const l = loader();
    const cache = new JwksCache(l.load, 300_000, () => 0);
    const controller = new AbortController();
    const aborted = cache.get({ signal: controller.signal });
    const patient = cache.get();
    controller.abort(new Error("gave up"));
    await expect(aborted).rejects.toThrow("gave up");
    l.resolve(KEYS_A);
    expect(await patient).toBe(KEYS_A);
    expect(l.calls).toBe(1);
  });

  it("does not remember a failed fetch", async () => {
    const l = loader();
    const cache = new JwksCache(l.load, 300_000, () => 0);
    const failing = cache.get();
    l.reject(new Error("down"));
    await expect(failing).rejects.toThrow("down");
    const retry = cache.get();
    l.resolve(KEYS_A);
    expect(await retry).toBe(KEYS_A);
    expect(l.calls).toBe(2);
  });

  it("refuses a cache time that is not a non-negative number", () => {
    expect(() => new JwksCache(loader().load, -1)).toThrow(RangeError);
    expect(() => new JwksCache(loader().load, Number.NaN)).toThrow(RangeError);
  });
});
