import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
