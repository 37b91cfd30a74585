import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STORAGE_KINDS, startTestServer, type TestServer } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";

/** `depth` levels of nested arrays around a number, as raw JSON text (JSON.stringify would overflow). */
function nested(depth: number): string {
  return `${"[".repeat(depth)}1${"]".repeat(depth)}`;
}

const DEEP = nested(200_000);

describe.each(STORAGE_KINDS)("deeply nested JSON is a 400, never a 500 (%s)", (storage) => {
  let s: TestServer;
  let agent: string;

  beforeAll(async () => {
    s = await startTestServer({ storage });
    agent = await s.createKey("agent");
  });
  afterAll(() => s.close());

  const post = (path: string, rawBody: string) => call(s.url, "POST", path, { key: agent, rawBody });

  it.each([
    ["tool.args", `{"question":"deep?","tool":{"name":"t","args":{"a":${DEEP}}}}`],
    ["retrieved_context", `{"question":"deep?","retrieved_context":${DEEP}}`],
    ["metadata", `{"question":"deep?","metadata":{"a":${DEEP}}}`],
  ])("POST /v1/requests with deep %s", async (_field, body) => {
    const res = await post("/v1/requests", body);
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toMatch(/application\/problem\+json/);
  });

  it.each([
    ["args", `{"run_id":"r","tool":"t","args":{"a":${DEEP}}}`],
    ["retrieved_context", `{"run_id":"r","tool":"t","retrieved_context":${DEEP}}`],
    ["context", `{"run_id":"r","tool":"t","context":{"a":${DEEP}}}`],
  ])("POST /v1/govern with deep %s", async (_field, body) => {
    const res = await post("/v1/govern", body);
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toMatch(/application\/problem\+json/);
  });

  it("still accepts nesting within the limit", async () => {
    const res = await post(
      "/v1/requests",
      `{"question":"ok?","tool":{"name":"t","args":{"a":${nested(100)}}}}`,
    );
    expect(res.status).toBe(201);
    const gov = await post("/v1/govern", `{"run_id":"r-ok","tool":"t","args":{"a":${nested(100)}}}`);
    expect(gov.status).toBe(200);
  });
});
