import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STORAGE_KINDS, startTestServer, type TestServer } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";

type Req = {
  id: string;
  status: string;
  quorum: { required: number; approvals: number; remaining: number; summary: string };
  response: null | {
    approved: boolean;
    option: string | null;
    answer: string | null;
    comment: string | null;
    modified_args: unknown;
    reviews: Array<{ reviewer: { key_id: string } }>;
  };
  tool: { name: string; args: unknown; args_hash: string } | null;
  correlation_id: string;
  created_by: { key_id: string; role: string };
  actor: unknown;
  expires_at: string | null;
};

describe.each(STORAGE_KINDS)("requests over HTTP (%s)", (storage) => {
  let s: TestServer;
  let agent: string;
  let otherAgent: string;
  let reviewer: string;
  let reviewer2: string;

  beforeAll(async () => {
    s = await startTestServer({ storage });
    [agent, otherAgent, reviewer, reviewer2] = await Promise.all([
      s.createKey("agent"),
      s.createKey("agent"),
      s.createKey("reviewer"),
      s.createKey("reviewer"),
    ]);
  });
  afterAll(() => s.close());

  const create = (body: Record<string, unknown>, key = agent) =>
    call<Req>(s.url, "POST", "/v1/requests", { key, body });

  it("creates a request with every traceability field and a computed args hash", async () => {
    const res = await create({
      question: "Send the quarterly report to the customer?",
      context: { customer: "ACME" },
      tool: { name: "email.send", args: { to: "cfo@acme.test", subject: "Q3" } },
      source: { integration: "plain-http", run_id: "run-7" },
      actor: { agent_id: "mailer", agent_name: "Mailer bot" },
      trace_id: "t-1",
      parent_trace_id: "t-0",
      tool_calls: [{ name: "crm.lookup" }],
      retrieved_context: ["doc-1"],
      metadata: { team: "finance" },
      priority: "high",
    });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe("pending");
    expect(res.body.id).toMatch(/^req_[0-9A-Z]{26}$/);
    // Correlation defaults to the run id, so a run's requests form one case.
    expect(res.body.correlation_id).toBe("run-7");
    expect(res.body.created_by.role).toBe("agent");
    expect(res.body.actor).toEqual({ agent_id: "mailer", agent_name: "Mailer bot" });
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    // The 201 is the stored resource, exactly as a later read returns it.
    const read = await call(s.url, "GET", `/v1/requests/${res.body.id}`, { key: agent });
    expect(read.body).toEqual(res.body);
    // Key order does not change the hash (RFC 8785).
    const same = await create({
      question: "x",
      tool: { name: "email.send", args: { subject: "Q3", to: "cfo@acme.test" } },
    });
    expect(same.body.tool?.args_hash).toBe(res.body.tool?.args_hash);
    expect(res.body.tool?.args_hash).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("is idempotent on external_request_id: 200 with the original, 409 for a different body", async () => {
    const body = { question: "Delete the staging DB?", external_request_id: "ext-1" };
    const first = await create(body);
    const replay = await create({ external_request_id: "ext-1", question: "Delete the staging DB?" });
    expect(first.status).toBe(201);
    expect(replay.status).toBe(200);
    expect(replay.body.id).toBe(first.body.id);
    const conflict = await create({ ...body, question: "Delete the production DB?" });
    expect(conflict.status).toBe(409);
    expect(conflict.headers.get("content-type")).toContain("application/problem+json");
    expect((conflict.body as unknown as { code: string }).code).toBe("idempotency_mismatch");
    // Another agent may use the same external id independently.
    const other = await create(body, otherAgent);
    expect(other.status).toBe(201);
    expect(other.body.id).not.toBe(first.body.id);
  });

  it("idempotency holds under concurrent identical creates", async () => {
    const body = { question: "Concurrent?", external_request_id: "ext-concurrent" };
    const results = await Promise.all(Array.from({ length: 10 }, () => create(body)));
    const ids = new Set(results.map((r) => r.body.id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
  });

  it("approves, with the reviewer's comment and edited arguments", async () => {
    const created = await create({
      question: "Pay?",
      tool: { name: "payments.send", args: { amount: 5000 } },
    });
    const res = await call<Req>(s.url, "POST", `/v1/requests/${created.body.id}/respond`, {
      key: reviewer,
      body: { approved: true, comment: "lowered", modified_args: { amount: 4000 } },
    });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("approved");
    expect(res.body.response?.comment).toBe("lowered");
    expect(res.body.response?.modified_args).toEqual({ amount: 4000 });
    // Nobody can change a terminal request.
    const again = await call(s.url, "POST", `/v1/requests/${created.body.id}/respond`, {
      key: reviewer2,
      body: { approved: false },
    });
    expect(again.status).toBe(409);
  });

  it("rejects with a reason; one rejection rejects a quorum request", async () => {
    const created = await create({ question: "Wire?", required_approvals: 2 });
    const first = await call<Req>(s.url, "POST", `/v1/requests/${created.body.id}/respond`, {
      key: reviewer,
      body: { approved: true },
    });
    expect(first.body.status).toBe("pending");
    expect(first.body.quorum).toMatchObject({ required: 2, approvals: 1, remaining: 1, summary: "1 of 2" });
    const rejected = await call<Req>(s.url, "POST", `/v1/requests/${created.body.id}/respond`, {
      key: reviewer2,
      body: { approved: false, comment: "not this quarter" },
    });
    expect(rejected.body.status).toBe("rejected");
    expect(rejected.body.response?.comment).toBe("not this quarter");
    expect(rejected.body.response?.reviews).toHaveLength(2);
  });

  it("needs N distinct reviewers for required_approvals: N; a reviewer cannot respond twice", async () => {
    const created = await create({ question: "Deploy?", required_approvals: 2 });
    const path = `/v1/requests/${created.body.id}/respond`;
    expect(
      (await call<Req>(s.url, "POST", path, { key: reviewer, body: { approved: true } })).body.status,
    ).toBe("pending");
    const twice = await call(s.url, "POST", path, { key: reviewer, body: { approved: true } });
    expect(twice.status).toBe(409);
    expect((twice.body as { code: string }).code).toBe("already_responded");
    const done = await call<Req>(s.url, "POST", path, { key: reviewer2, body: { approved: true } });
    expect(done.body.status).toBe("approved");
    expect(new Set(done.body.response?.reviews.map((r) => r.reviewer.key_id)).size).toBe(2);
  });

  it("concurrent responses from many reviewers decide the request exactly once", async () => {
    const created = await create({ question: "Race?", required_approvals: 1 });
    const keys = await Promise.all(Array.from({ length: 6 }, () => s.createKey("reviewer")));
    const results = await Promise.all(
      keys.map((k) =>
        call(s.url, "POST", `/v1/requests/${created.body.id}/respond`, { key: k, body: { approved: true } }),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(5);
  });

  it("answers decision and input requests", async () => {
    const decision = await create({
      type: "decision",
      question: "Which plan?",
      options: [{ name: "a" }, { name: "b", title: "Plan B" }],
    });
    const bad = await call(s.url, "POST", `/v1/requests/${decision.body.id}/respond`, {
      key: reviewer,
      body: { option: "c" },
    });
    expect(bad.status).toBe(400);
    const chosen = await call<Req>(s.url, "POST", `/v1/requests/${decision.body.id}/respond`, {
      key: reviewer,
      body: { option: "b" },
    });
    expect(chosen.body.status).toBe("answered");
    expect(chosen.body.response?.option).toBe("b");

    const input = await create({ type: "input", question: "What is the PO number?" });
    const answered = await call<Req>(s.url, "POST", `/v1/requests/${input.body.id}/respond`, {
      key: reviewer,
      body: { answer: "PO-123" },
    });
    expect(answered.body.status).toBe("answered");
    expect(answered.body.response?.answer).toBe("PO-123");
  });

  it("lets agents see and cancel only their own requests", async () => {
    const mine = await create({ question: "Mine?" });
    expect((await call(s.url, "GET", `/v1/requests/${mine.body.id}`, { key: otherAgent })).status).toBe(404);
    expect(
      (await call(s.url, "POST", `/v1/requests/${mine.body.id}/cancel`, { key: otherAgent, body: {} }))
        .status,
    ).toBe(404);
    expect(
      (await call(s.url, "POST", `/v1/requests/${mine.body.id}/cancel`, { key: reviewer, body: {} })).status,
    ).toBe(403);
    const listed = await call<{ data: Req[] }>(s.url, "GET", "/v1/requests?limit=200", { key: otherAgent });
    expect(listed.body.data.every((r) => r.created_by.key_id !== mine.body.created_by.key_id)).toBe(true);
    const cancelled = await call<Req>(s.url, "POST", `/v1/requests/${mine.body.id}/cancel`, {
      key: agent,
      body: { reason: "no longer needed" },
    });
    expect(cancelled.body.status).toBe("cancelled");
    expect(
      (await call(s.url, "POST", `/v1/requests/${mine.body.id}/cancel`, { key: agent, body: {} })).status,
    ).toBe(409);
  });

  it("lists with filters and cursor pagination, newest first", async () => {
    const correlation = `case-${storage}-list`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await create({ question: `q${i}`, correlation_id: correlation })).body.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `/v1/requests?correlation_id=${correlation}&limit=2${cursor ? `&cursor=${cursor}` : ""}`;
      const page: { body: { data: Req[]; next_cursor: string | null } } = await call(s.url, "GET", q, {
        key: reviewer,
      });
      seen.push(...page.body.data.map((r) => r.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    const pending = await call<{ data: Req[] }>(s.url, "GET", `/v1/requests?status=approved&limit=200`, {
      key: reviewer,
    });
    expect(pending.body.data.every((r) => r.status === "approved")).toBe(true);
  });

  it("wait returns the moment the request is decided", async () => {
    const created = await create({ question: "Wake me" });
    const waiting = call<Req>(s.url, "GET", `/v1/requests/${created.body.id}/wait?timeout_seconds=30`, {
      key: agent,
    });
    // Give the long-poll time to subscribe: the result must not depend on it, but this exercises the wake path.
    await new Promise((r) => setTimeout(r, 50));
    await call(s.url, "POST", `/v1/requests/${created.body.id}/respond`, {
      key: reviewer,
      body: { approved: true },
    });
    const woken = await waiting;
    expect(woken.body.status).toBe("approved");
    expect(woken.headers.get("countersign-wait")).toBe("decided");
  });

  it("wait returns the pending request when its timeout passes", async () => {
    const created = await create({ question: "Nobody answers" });
    const res = await call<Req>(s.url, "GET", `/v1/requests/${created.body.id}/wait?timeout_seconds=0.2`, {
      key: agent,
    });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("pending");
    expect(res.headers.get("countersign-wait")).toBe("timeout");
  });

  it("times out a request whose TTL passes, and never calls that a rejection", async () => {
    const created = await create({ question: "Quick!", ttl_seconds: 1 });
    expect(created.body.expires_at).not.toBeNull();
    const res = await call<Req>(s.url, "GET", `/v1/requests/${created.body.id}/wait?timeout_seconds=10`, {
      key: agent,
    });
    expect(res.body.status).toBe("timed_out");
    expect(res.body.response).toBeNull();
    const late = await call(s.url, "POST", `/v1/requests/${created.body.id}/respond`, {
      key: reviewer,
      body: { approved: true },
    });
    expect(late.status).toBe(409);
  });
});
