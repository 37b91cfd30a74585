import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyApprovalToken } from "../../../sdk/src/approval-token.ts";
import { STORAGE_KINDS, startTestServer, type TestServer } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";
import { addReviewer } from "../testing/reviewers.ts";

const POLICY = `version: 1
default: { decision: allow }
risk_tiers:
  high: { required_roles: [finance], required_approvals: 1, ttl_seconds: 600, priority: high }
budgets:
  max_tool_calls: 5
  on_exceed: deny
rules:
  - id: no-drops
    match: { tool: "db.*", args: "args.sql matches '(?i)drop'" }
    decision: deny
    reason: "dropping tables is never allowed"
  - id: payments-cap
    match: { tool: "payments.send", args: "args.amount > 100000" }
    decision: deny
    reason: "payments above 100000 are never allowed"
  - id: payments-large
    match: { tool: "payments.send", args: "args.amount > 1000" }
    decision: approval_required
    risk: high
    reason: "payments above 1000 need finance approval"
  - id: email-external
    match: { tool: "email.send" }
    decision: approval_required
    reason: "customer email needs a human"
`;

type Gov = {
  id: string;
  decision: string;
  reason: string;
  rule_id: string;
  policy_version: string;
  stop_reason: string | null;
  request_id: string | null;
  request_status: string | null;
  approval_token: string | null;
  approved_args: unknown;
  review_comment: string | null;
  budgets: { remaining: { tool_calls?: number }; exceeded: string[] } | null;
  replayed: boolean;
};

describe.each(STORAGE_KINDS)("govern (%s)", (storage) => {
  let s: TestServer;
  let agent: string;
  let reviewer: string;
  let run = 0;
  const nextRun = () => `run-${storage}-${++run}`;

  beforeAll(async () => {
    s = await startTestServer({ storage });
    [agent, reviewer] = await Promise.all([s.createKey("agent", "billing-bot"), s.createKey("reviewer")]);
    // Payments above 1000 need finance: the reviewer key belongs to a finance reviewer.
    await addReviewer(s, { key: reviewer, name: "Fiona", roles: ["finance"] });
    const put = await call(s.url, "PUT", "/v1/policy", { key: s.adminKey, body: { source: POLICY } });
    expect(put.status).toBe(200);
  });
  afterAll(() => s.close());

  const govern = (body: Record<string, unknown>) =>
    call<Gov>(s.url, "POST", "/v1/govern", { key: agent, body });

  it("allows, denies and parks calls, auditing each with the policy version", async () => {
    const runId = nextRun();
    const allowed = await govern({ run_id: runId, call_id: "c1", tool: "search.web", args: { q: "x" } });
    expect(allowed.body).toMatchObject({ decision: "allow", rule_id: "default", stop_reason: null });
    const denied = await govern({
      run_id: runId,
      call_id: "c2",
      tool: "db.query",
      args: { sql: "DROP TABLE users" },
    });
    expect(denied.body).toMatchObject({
      decision: "deny",
      rule_id: "no-drops",
      stop_reason: "policy_denied",
    });
    const parked = await govern({
      run_id: runId,
      call_id: "c3",
      tool: "payments.send",
      args: { amount: 5000 },
    });
    expect(parked.body).toMatchObject({
      decision: "approval_required",
      rule_id: "payments-large",
      risk: "high",
    });
    expect(parked.body.request_id).toMatch(/^req_/);
    const request = await call<{ required_roles: string[]; correlation_id: string; tool: { args: unknown } }>(
      s.url,
      "GET",
      `/v1/requests/${parked.body.request_id}`,
      { key: agent },
    );
    expect(request.body.required_roles).toEqual(["finance"]);
    expect(request.body.correlation_id).toBe(runId);
    expect(request.body.tool.args).toEqual({ amount: 5000 });

    const timeline = await call<{ timeline: Array<{ kind: string; data: { policy_version?: string } }> }>(
      s.url,
      "GET",
      `/v1/cases/${runId}`,
      { key: s.adminKey },
    );
    const kinds = timeline.body.timeline.map((e) => e.kind);
    expect(kinds).toEqual([
      "govern.allowed",
      "govern.denied",
      "request.created",
      "request.routed",
      "govern.approval_required",
    ]);
    expect(timeline.body.timeline[0]?.data.policy_version).toBe(allowed.body.policy_version);
  });

  it("refuses a call id reused for a different tool call", async () => {
    const runId = nextRun();
    await govern({ run_id: runId, call_id: "once", tool: "search.web", args: { q: 1 } });
    const other = await govern({
      run_id: runId,
      call_id: "once",
      tool: "payments.send",
      args: { amount: 1 },
    });
    expect(other.status).toBe(409);
    const otherArgs = await govern({ run_id: runId, call_id: "once", tool: "search.web", args: { q: 2 } });
    expect(otherArgs.status).toBe(409);
  });

  it("kill switch wins over an approval given before it: no token on replay, no consumption", async () => {
    const runId = nextRun();
    const parked = await govern({
      run_id: runId,
      call_id: "late",
      tool: "email.send",
      args: { to: "a@b.c" },
    });
    const approved = await call<{ approval_token: string }>(
      s.url,
      "POST",
      `/v1/requests/${parked.body.request_id}/respond`,
      { key: reviewer, body: { approved: true } },
    );
    const resumed = await govern({
      run_id: runId,
      call_id: "late",
      tool: "email.send",
      args: { to: "a@b.c" },
    });
    expect(resumed.body).toMatchObject({ request_status: "approved", stop_reason: null });
    const ks = await call<{ id: string }>(s.url, "POST", "/v1/kill-switch", {
      key: s.adminKey,
      body: { engaged: true, scope: "run", run_id: runId, reason: "stop" },
    });
    const killed = await govern({
      run_id: runId,
      call_id: "late",
      tool: "email.send",
      args: { to: "a@b.c" },
    });
    expect(killed.body).toMatchObject({ decision: "deny", stop_reason: "killed", approval_token: null });
    const consume = await call<{ code: string }>(s.url, "POST", "/v1/tokens/consume", {
      key: agent,
      body: { token: approved.body.approval_token, tool: "email.send", args: { to: "a@b.c" } },
    });
    expect(consume.status).toBe(403);
    expect(consume.body.code).toBe("killed");
    await call(s.url, "POST", "/v1/kill-switch", {
      key: s.adminKey,
      body: { engaged: false, id: ks.body.id },
    });
  });

  it("is idempotent on (agent, run, call) and does not count a replay against the budget", async () => {
    const runId = nextRun();
    const first = await govern({ run_id: runId, call_id: "same", tool: "email.send", args: { to: "a@b.c" } });
    const again = await govern({ run_id: runId, call_id: "same", tool: "email.send", args: { to: "a@b.c" } });
    expect(again.body.id).toBe(first.body.id);
    expect(again.body.request_id).toBe(first.body.request_id);
    expect(again.body.replayed).toBe(true);
    const next = await govern({ run_id: runId, call_id: "other", tool: "search.web" });
    expect(next.body.budgets?.remaining.tool_calls).toBe(3);
  });

  it("resumes a parked call with a token bound to the approved (edited) arguments", async () => {
    const runId = nextRun();
    const parked = await govern({
      run_id: runId,
      call_id: "pay",
      tool: "payments.send",
      args: { amount: 5000 },
    });
    const id = parked.body.request_id;
    const deniedEdit = await call<{ code: string }>(s.url, "POST", `/v1/requests/${id}/respond`, {
      key: reviewer,
      body: { approved: true, modified_args: { amount: 250000 } },
    });
    expect(deniedEdit.status).toBe(403);
    expect(deniedEdit.body.code).toBe("edit_denied");
    const approved = await call<{ status: string; approval_token: string }>(
      s.url,
      "POST",
      `/v1/requests/${id}/respond`,
      {
        key: reviewer,
        body: { approved: true, comment: "split in two", modified_args: { amount: 2500 } },
      },
    );
    expect(approved.body.status).toBe("approved");
    expect(approved.body.approval_token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);

    const resumed = await govern({
      run_id: runId,
      call_id: "pay",
      tool: "payments.send",
      args: { amount: 5000 },
    });
    expect(resumed.body).toMatchObject({
      request_status: "approved",
      approved_args: { amount: 2500 },
      review_comment: "split in two",
    });
    expect(resumed.body.approval_token).toBe(approved.body.approval_token);

    const jwks = await call<{ keys: JsonWebKey[] }>(s.url, "GET", "/.well-known/jwks.json");
    const token = approved.body.approval_token;
    await expect(
      verifyApprovalToken(token, { tool: "payments.send", args: { amount: 2500 } }, jwks.body),
    ).resolves.toMatchObject({ request_id: id });
    await expect(
      verifyApprovalToken(token, { tool: "payments.send", args: { amount: 5000 } }, jwks.body),
    ).rejects.toThrow();

    const consume = (args: unknown) =>
      call<{ code?: string }>(s.url, "POST", "/v1/tokens/consume", {
        key: agent,
        body: { token, tool: "payments.send", args },
      });
    expect((await consume({ amount: 5000 })).status).toBe(403);
    expect((await consume({ amount: 2500 })).status).toBe(200);
    const twice = await consume({ amount: 2500 });
    expect(twice.status).toBe(409);
  });

  it("stops a run that goes over its budget", async () => {
    const runId = nextRun();
    const answers: Gov[] = [];
    for (let i = 0; i < 6; i++)
      answers.push((await govern({ run_id: runId, call_id: `b${i}`, tool: "search.web" })).body);
    expect(answers.slice(0, 5).every((a) => a.decision === "allow")).toBe(true);
    expect(answers[4]?.budgets?.remaining.tool_calls).toBe(0);
    expect(answers[5]).toMatchObject({ decision: "deny", stop_reason: "budget_exceeded", rule_id: "budget" });
    expect(answers[5]?.budgets?.exceeded).toEqual(["max_tool_calls"]);
  });

  it("kill switch: denies the very next call of its scope, cancels its pending requests, and can be released", async () => {
    const runId = nextRun();
    const parked = await govern({ run_id: runId, call_id: "k1", tool: "email.send", args: {} });
    const engaged = await call<{ id: string; cancelled_requests: number }>(s.url, "POST", "/v1/kill-switch", {
      key: s.adminKey,
      body: { engaged: true, scope: "run", run_id: runId, reason: "runaway loop" },
    });
    expect(engaged.status).toBe(201);
    expect(engaged.body.cancelled_requests).toBe(1);
    const after = await govern({ run_id: runId, call_id: "k2", tool: "search.web" });
    expect(after.body).toMatchObject({ decision: "deny", stop_reason: "killed" });
    const request = await call<{ status: string }>(s.url, "GET", `/v1/requests/${parked.body.request_id}`, {
      key: agent,
    });
    expect(request.body.status).toBe("cancelled");
    const otherRun = await govern({ run_id: nextRun(), call_id: "k3", tool: "search.web" });
    expect(otherRun.body.decision).toBe("allow");
    await call(s.url, "POST", "/v1/kill-switch", {
      key: s.adminKey,
      body: { engaged: false, id: engaged.body.id, reason: "fixed" },
    });
    expect((await govern({ run_id: runId, call_id: "k4", tool: "search.web" })).body.decision).toBe("allow");
  });

  it("kill switch always wins, whatever the call", async () => {
    const ks = await call<{ id: string }>(s.url, "POST", "/v1/kill-switch", {
      key: s.adminKey,
      body: { engaged: true, scope: "agent", agent: "billing-bot", reason: "incident" },
    });
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom("search.web", "email.send", "db.write", "payments.send", "x.y.z"),
          fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
          async (tool, args) => {
            const res = await govern({ run_id: nextRun(), tool, args });
            expect(res.body).toMatchObject({ decision: "deny", stop_reason: "killed" });
          },
        ),
        { numRuns: 25 },
      );
    } finally {
      await call(s.url, "POST", "/v1/kill-switch", {
        key: s.adminKey,
        body: { engaged: false, id: ks.body.id },
      });
    }
  });

  it("standing grants allow matching calls until used up; deny rules still win", async () => {
    const runId = nextRun();
    const grant = await call<{ id: string }>(s.url, "POST", "/v1/grants", {
      key: reviewer,
      body: {
        agent: "billing-bot",
        tool: "email.*",
        conditions: "args.to ends_with '@acme.test'",
        max_uses: 1,
      },
    });
    expect(grant.status).toBe(201);
    const granted = await govern({
      run_id: runId,
      call_id: "g1",
      tool: "email.send",
      args: { to: "ops@acme.test" },
    });
    expect(granted.body).toMatchObject({ decision: "allow", rule_id: `grant:${grant.body.id}` });
    const elsewhere = await govern({
      run_id: runId,
      call_id: "g2",
      tool: "email.send",
      args: { to: "x@other.test" },
    });
    expect(elsewhere.body.decision).toBe("approval_required");
    const usedUp = await govern({
      run_id: runId,
      call_id: "g3",
      tool: "email.send",
      args: { to: "ops@acme.test" },
    });
    expect(usedUp.body.decision).toBe("approval_required");

    await call(s.url, "POST", "/v1/grants", { key: reviewer, body: { agent: "billing-bot", tool: "db.*" } });
    const drop = await govern({
      run_id: runId,
      call_id: "g4",
      tool: "db.query",
      args: { sql: "drop table x" },
    });
    expect(drop.body).toMatchObject({ decision: "deny", rule_id: "no-drops" });
  });

  it("rejects a broken policy whole, with line numbers, and keeps the old one", async () => {
    const before = await call<{ version: string }>(s.url, "GET", "/v1/policy", { key: s.adminKey });
    const broken = await call<{ errors: Array<{ line: number; message: string }> }>(
      s.url,
      "PUT",
      "/v1/policy",
      {
        key: s.adminKey,
        rawBody: "version: 1\nrules:\n  - id: x\n    match: { tool: 'a' }\n    decision: maybe\n",
        headers: { "content-type": "application/yaml" },
      },
    );
    expect(broken.status).toBe(400);
    expect(broken.body.errors[0]?.line).toBe(5);
    const after = await call<{ version: string }>(s.url, "GET", "/v1/policy", { key: s.adminKey });
    expect(after.body.version).toBe(before.body.version);
  });

  it("refuses govern from non-agent keys and malformed calls", async () => {
    expect(
      (await call(s.url, "POST", "/v1/govern", { key: reviewer, body: { run_id: "r", tool: "t" } })).status,
    ).toBe(403);
    expect((await govern({ tool: "t" })).status).toBe(400);
    expect((await govern({ run_id: "r", tool: "t", args: { a: 1 }, nope: 1 })).status).toBe(400);
    const lone = await call(s.url, "POST", "/v1/govern", {
      key: agent,
      rawBody: '{"run_id":"r","tool":"t","args":{"s":"\\ud800"}}',
    });
    expect(lone.status).toBe(400);
  });
});
