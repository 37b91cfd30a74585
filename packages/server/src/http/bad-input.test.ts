import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STORAGE_KINDS, startTestServer, type TestServer } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";

const FIELDS = [
  "type",
  "question",
  "title",
  "context",
  "options",
  "required_role",
  "required_roles",
  "required_approvals",
  "require_distinct_roles",
  "priority",
  "ttl_seconds",
  "escalate_after_seconds",
  "external_request_id",
  "correlation_id",
  "metadata",
  "callback_url",
  "source",
  "actor",
  "trace_id",
  "tool_calls",
  "retrieved_context",
  "tool",
  "bogus",
];

/** Mostly-plausible bodies: known field names with values of any JSON type, plus stray fields. */
const plausibleBody = fc.dictionary(fc.constantFrom(...FIELDS), fc.jsonValue({ maxDepth: 3 }), {
  maxKeys: 6,
});
const anyJson = fc.jsonValue({ maxDepth: 4 });
const respondBody = fc.dictionary(
  fc.constantFrom("approved", "option", "answer", "comment", "modified_args", "extra"),
  fc.jsonValue({ maxDepth: 3 }),
  { maxKeys: 4 },
);
const rawText = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.constantFrom('{"question": "\\ud800"}', '{"question": 1e999}', "[]", "null", '{"a":', "\u0000"),
);

describe.each(STORAGE_KINDS)("bad input never causes a 5xx or loses data (%s)", (storage) => {
  let s: TestServer;
  let agent: string;
  let reviewer: string;
  let keeper: { id: string; body: unknown };

  beforeAll(async () => {
    s = await startTestServer({ storage });
    [agent, reviewer] = await Promise.all([s.createKey("agent"), s.createKey("reviewer")]);
    const created = await call<{ id: string }>(s.url, "POST", "/v1/requests", {
      key: agent,
      body: {
        question: "Must survive the fuzzing",
        required_approvals: 3,
        tool: { name: "t", args: { a: 1 } },
      },
    });
    keeper = { id: created.body.id, body: created.body };
  });
  afterAll(() => s.close());

  it("create: random bodies get 2xx or a 4xx problem naming the field", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(plausibleBody, anyJson), async (body) => {
        const res = await call<{ errors?: unknown[] }>(s.url, "POST", "/v1/requests", { key: agent, body });
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400) {
          expect(res.headers.get("content-type")).toContain("application/problem+json");
          if (res.status === 400) expect(res.body.errors?.length ?? 1).toBeGreaterThan(0);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("create: random raw text never crashes the parser", async () => {
    await fc.assert(
      fc.asyncProperty(rawText, async (rawBody) => {
        const res = await call(s.url, "POST", "/v1/requests", { key: agent, rawBody });
        expect(res.status).toBeLessThan(500);
      }),
      { numRuns: 60 },
    );
  });

  it("respond: random bodies on a pending request get 2xx or 4xx, never 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(respondBody, async (body) => {
        const target = await call<{ id: string }>(s.url, "POST", "/v1/requests", {
          key: agent,
          body: { question: "fuzz target", tool: { name: "x", args: {} } },
        });
        const res = await call(s.url, "POST", `/v1/requests/${target.body.id}/respond`, {
          key: reviewer,
          body,
        });
        expect(res.status).toBeLessThan(500);
      }),
      { numRuns: 100 },
    );
  });

  it("rejects oversized bodies with 413", async () => {
    const res = await call(s.url, "POST", "/v1/requests", {
      key: agent,
      body: { question: "big", context: "x".repeat(1024 * 1024 + 10) },
    });
    expect(res.status).toBe(413);
  });

  it("left earlier data untouched and the audit chain intact", async () => {
    const again = await call(s.url, "GET", `/v1/requests/${keeper.id}`, { key: agent });
    expect(again.body).toEqual(keeper.body);
    const verify = await call<{ ok: boolean }>(s.url, "GET", "/v1/audit/verify", { key: s.adminKey });
    expect(verify.body.ok).toBe(true);
  });
});
