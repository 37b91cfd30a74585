import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STORAGE_KINDS, startTestServer, type TestServer } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";

describe.each(STORAGE_KINDS)("Prometheus metrics (%s)", (storage) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ storage });
  });
  afterAll(() => s.close());

  const scrape = (key?: string) =>
    fetch(`${s.url}/metrics`, { headers: key ? { authorization: `Bearer ${key}` } : {} });

  it("needs an admin key", async () => {
    expect((await scrape()).status).toBe(401);
    expect((await scrape(await s.createKey("reviewer"))).status).toBe(403);
  });

  it("counts committed audit entries, pending requests and timed routes", async () => {
    const agent = await s.createKey("agent");
    await call(s.url, "POST", "/v1/requests", { key: agent, body: { question: "Counted?" } });
    await call(s.url, "POST", "/v1/requests", { key: agent, body: { question: "Counted too?" } });
    const res = await scrape(s.adminKey);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    expect(text).toMatch(/^countersign_audit_entries_total\{kind="request\.created"\} 2$/m);
    expect(text).toMatch(/^countersign_pending_requests 2$/m);
    expect(text).toMatch(
      /^countersign_http_request_duration_seconds_count\{method="POST",route="\/v1\/requests",status="201"\} 2$/m,
    );
    expect(text).toMatch(/^countersign_committed_writes_total \d+$/m);
    // Raw URLs (with ids) never become labels.
    expect(text).not.toMatch(/route="\/v1\/requests\/req_/);
  });
});
