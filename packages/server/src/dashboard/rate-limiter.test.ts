import { describe, expect, it } from "vitest";
import { AttemptLimiter } from "./rate-limiter.ts";

describe("AttemptLimiter", () => {
  it("allows `limit` attempts per window per key, then says how long to wait", () => {
    const clock = { t: 0, now: () => clock.t };
    const limiter = new AttemptLimiter({ limit: 3, windowMs: 60_000, clock });
    for (let i = 0; i < 3; i++) {
      expect(limiter.check("a").allowed).toBe(true);
      limiter.hit("a");
    }
    clock.t = 15_000;
    expect(limiter.check("a")).toEqual({ allowed: false, retryAfterSeconds: 45 });
    expect(limiter.check("b").allowed).toBe(true);
    clock.t = 60_000;
    expect(limiter.check("a").allowed).toBe(true);
  });

  it("forgets a key on reset, and stays bounded under a flood of keys", () => {
    const clock = { t: 0, now: () => clock.t };
    const limiter = new AttemptLimiter({ limit: 1, windowMs: 60_000, clock, maxKeys: 100 });
    limiter.hit("a");
    expect(limiter.check("a").allowed).toBe(false);
    limiter.reset("a");
    expect(limiter.check("a").allowed).toBe(true);
    for (let i = 0; i < 1000; i++) limiter.hit(`k${i}`);
    expect(limiter.size).toBeLessThanOrEqual(100);
  });
});
