import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, resolveConfig } from "../config.ts";
import { startTestServer, type TestServer } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";

describe("rate limit per caller", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ config: { rateLimitPerMinute: 5 } });
  });
  afterAll(() => s.close());

  it("answers 429 problem+json past the limit, per key, and never limits health probes", async () => {
    const agent = await s.createKey("agent");
    const other = await s.createKey("agent");
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++)
      statuses.push((await call(s.url, "GET", "/v1/requests", { key: agent })).status);
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    const limited = await call<{ code: string; retryable: boolean }>(s.url, "GET", "/v1/requests", {
      key: agent,
    });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("content-type")).toContain("application/problem+json");
    expect(limited.headers.get("retry-after")).not.toBeNull();
    expect(limited.body).toMatchObject({ code: "rate_limited", retryable: true });
    expect((await call(s.url, "GET", "/v1/requests", { key: other })).status).toBe(200);
    for (let i = 0; i < 10; i++) expect((await call(s.url, "GET", "/healthz")).status).toBe(200);
  });
});

describe("rate limit: no way around it", () => {
  it("limits every spelling of the same key together", async () => {
    const s = await startTestServer({ config: { rateLimitPerMinute: 5 } });
    try {
      const agent = await s.createKey("agent");
      const spellings = [
        `Bearer ${agent}`,
        `bearer ${agent}`,
        `Bearer  ${agent}`,
        `BEARER\t${agent}`,
        `Bearer \t ${agent}`,
        `bEaReR   ${agent}`,
      ];
      const statuses: number[] = [];
      for (const authorization of spellings)
        statuses.push((await call(s.url, "GET", "/v1/requests", { headers: { authorization } })).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    } finally {
      await s.close();
    }
  });

  it("refuses a flood of bad keys from one address, before looking at the keys it sends", async () => {
    // Per address: twice the per-caller limit unless configured.
    const s = await startTestServer({ config: { rateLimitPerMinute: 5 } });
    try {
      // Authenticated calls count per caller, not per address: three callers, 15 calls, all fine.
      const keys = await Promise.all([s.createKey("agent"), s.createKey("agent"), s.createKey("reviewer")]);
      for (const key of keys)
        for (let i = 0; i < 5; i++)
          expect((await call(s.url, "GET", "/v1/requests", { key })).status).toBe(200);

      const statuses: number[] = [];
      for (let i = 0; i < 10; i++)
        statuses.push((await call(s.url, "GET", "/v1/requests", { key: `cs_agent_made_up_${i}` })).status);
      expect(statuses).toEqual(Array(10).fill(401));
      const limited = await call<{ code: string }>(s.url, "GET", "/v1/requests", {
        key: "cs_agent_one_more",
      });
      expect(limited.status).toBe(429);
      expect(limited.headers.get("content-type")).toContain("application/problem+json");
      expect(limited.headers.get("retry-after")).not.toBeNull();
      expect(limited.body.code).toBe("rate_limited");
      // The address is refused before its credential is looked at, whatever it sends now.
      const fresh = await s.createKey("agent").catch((error: Error) => error.message);
      expect(fresh).toContain("429");
      expect((await call(s.url, "GET", "/v1/requests", { headers: { cookie: "cs_session=x" } })).status).toBe(
        429,
      );
      expect((await call(s.url, "GET", "/healthz")).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it("counts unauthenticated calls per address on their own when configured so", async () => {
    const s = await startTestServer({ config: { rateLimitPerMinute: 0, rateLimitPerIpPerMinute: 3 } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await call(s.url, "GET", "/.well-known/jwks.json")).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
    } finally {
      await s.close();
    }
  });

  it("reads the per-address limit from the environment", () => {
    expect(
      resolveConfig({}, { COUNTERSIGN_RATE_LIMIT_PER_IP_PER_MINUTE: "30" }).rateLimitPerIpPerMinute,
    ).toBe(30);
    expect(resolveConfig({}, {}).rateLimitPerIpPerMinute).toBeUndefined();
    for (const value of ["-1", "1.5", "lots"])
      expect(() => resolveConfig({}, { COUNTERSIGN_RATE_LIMIT_PER_IP_PER_MINUTE: value })).toThrow(
        ConfigError,
      );
  });
});
