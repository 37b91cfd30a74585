import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyApprovalToken } from "../../../sdk/src/approval-token.ts";
import { STORAGE_KINDS, startTestServer, type TestServer } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";
import { addReviewer, auditEntries, keyIdOf } from "../testing/reviewers.ts";

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
    const approved = await call(s.url, "POST", `/v1/requests/${parked.body.request_id}/respond`, {
      key: reviewer,
      body: { approved: true },
    });
    expect(approved.status).toBe(200);
    const resumed = await govern({
      run_id: runId,
      call_id: "late",
      tool: "email.send",
      args: { to: "a@b.c" },
    });
    expect(resumed.body).toMatchObject({ request_status: "approved", stop_reason: null });
    // The token is the agent's: it learns it by calling again (the reviewer's answer leaves it out).
    expect(resumed.body.approval_token).toEqual(expect.any(String));
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
      body: { token: resumed.body.approval_token, tool: "email.send", args: { to: "a@b.c" } },
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
    const approved = await call<{ status: string; approval_token?: string }>(
      s.url,
      "POST",
      `/v1/requests/${id}/respond`,
      {
        key: reviewer,
        body: { approved: true, comment: "split in two", modified_args: { amount: 2500 } },
      },
    );
    expect(approved.body.status).toBe("approved");
    // Only the agent that asked (and admins) see the token, not the reviewer who approved.
    expect(approved.body).not.toHaveProperty("approval_token");

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
    expect(resumed.body.approval_token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const asAgent = await call<{ approval_token?: string }>(s.url, "GET", `/v1/requests/${id}`, {
      key: agent,
    });
    expect(asAgent.body.approval_token).toBe(resumed.body.approval_token);

    const jwks = await call<{ keys: JsonWebKey[] }>(s.url, "GET", "/.well-known/jwks.json");
    const token = resumed.body.approval_token as string;
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
    const agentId = await keyIdOf(s, agent);
    const grant = await call<{ id: string }>(s.url, "POST", "/v1/grants", {
      key: reviewer,
      body: {
        agent: agentId,
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

    const dbGrant = await call(s.url, "POST", "/v1/grants", {
      key: reviewer,
      body: { agent: agentId, tool: "db.*", ttl_seconds: 3600 },
    });
    expect(dbGrant.status).toBe(201);
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

/** Payments up to 1000 need one ops approval; above, two finance approvals. */
const TIERED_PAYMENTS = `version: 1
default: { decision: allow }
rules:
  - id: payments-cap
    match: { tool: "payments.send", args: "args.amount > 10000000" }
    decision: deny
    reason: "payments above 10000000 are never allowed"
  - id: payments-small
    match: { tool: "payments.send", args: "args.amount <= 1000" }
    decision: approval_required
    required_roles: [ops]
    required_approvals: 1
    reason: "payments up to 1000 need ops approval"
  - id: payments-large
    match: { tool: "payments.send", args: "args.amount > 1000" }
    decision: approval_required
    required_roles: [finance]
    required_approvals: 2
    reason: "payments above 1000 need two finance approvals"
`;

describe.each(STORAGE_KINDS)("edits cannot escape the policy's roles and quorum (%s)", (storage) => {
  let s: TestServer;
  let agent: string;
  let ops: string;
  let fin1: string;
  let fin2: string;
  let run = 0;
  const nextRun = () => `edit-${storage}-${++run}`;

  beforeAll(async () => {
    s = await startTestServer({ storage });
    [agent, ops, fin1, fin2] = await Promise.all([
      s.createKey("agent", "billing-bot"),
      s.createKey("reviewer"),
      s.createKey("reviewer"),
      s.createKey("reviewer"),
    ]);
    await addReviewer(s, { key: ops, name: "Otto", roles: ["ops"] });
    await addReviewer(s, { key: fin1, name: "Fiona", roles: ["finance"] });
    await addReviewer(s, { key: fin2, name: "Finn", roles: ["finance"] });
    const put = await call(s.url, "PUT", "/v1/policy", {
      key: s.adminKey,
      body: { source: TIERED_PAYMENTS },
    });
    expect(put.status).toBe(200);
  });
  afterAll(() => s.close());

  type Req = {
    id: string;
    status: string;
    required_roles: string[];
    required_approvals: number;
    approval_token?: string | null;
    response: { modified_args: unknown } | null;
    pending_edits: Array<{ args: unknown }>;
    code?: string;
    detail?: string;
  };
  const park = async (amount: number) => {
    const parked = await call<Gov>(s.url, "POST", "/v1/govern", {
      key: agent,
      body: { run_id: nextRun(), call_id: "pay", tool: "payments.send", args: { amount, to: "acct-1" } },
    });
    expect(parked.body.decision).toBe("approval_required");
    return parked.body.request_id as string;
  };
  const respond = (id: string, key: string, body: Record<string, unknown>) =>
    call<Req>(s.url, "POST", `/v1/requests/${id}/respond`, { key, body });
  const read = async (id: string) =>
    (await call<Req>(s.url, "GET", `/v1/requests/${id}`, { key: s.adminKey })).body;
  const reviewsOf = async (id: string) =>
    (await auditEntries(s, id)).filter((e) => e.kind === "review.recorded");

  it("refuses an ops reviewer who edits a 100 payment into 5000000 (the reported exploit)", async () => {
    const id = await park(100);
    expect(await read(id)).toMatchObject({ required_roles: ["ops"], required_approvals: 1 });
    const exploit = await respond(id, ops, {
      approved: true,
      modified_args: { amount: 5000000, to: "acct-1" },
    });
    expect(exploit.status).toBe(403);
    expect(exploit.body.code).toBe("edit_denied");
    expect(exploit.body.detail).toContain("payments-large");
    expect(exploit.body.detail).toContain("payments above 1000 need two finance approvals");
    // Nothing was recorded: the request is still pending, with no token and no review.
    const after = await read(id);
    expect(after).toMatchObject({ status: "pending", response: null, pending_edits: [] });
    expect(after.approval_token ?? null).toBeNull();
    expect(await reviewsOf(id)).toHaveLength(0);
    // The ops reviewer may still decide the call as proposed, or edit it within their remit.
    const within = await respond(id, ops, { approved: true, modified_args: { amount: 90, to: "acct-1" } });
    expect(within.status).toBe(200);
    expect(within.body).toMatchObject({
      status: "approved",
      response: { modified_args: { amount: 90, to: "acct-1" } },
    });
    expect((await read(id)).approval_token).toEqual(expect.any(String));
  });

  it("refuses an edit needing a role the request does not require, even with fewer approvals", async () => {
    const id = await park(5000);
    expect(await read(id)).toMatchObject({ required_roles: ["finance"], required_approvals: 2 });
    const smaller = await respond(id, fin1, { approved: true, modified_args: { amount: 500, to: "acct-1" } });
    expect(smaller.status).toBe(403);
    expect(smaller.body.code).toBe("edit_denied");
    expect(smaller.body.detail).toContain("payments-small");
    const denied = await respond(id, fin1, { approved: true, modified_args: { amount: 20000000, to: "x" } });
    expect(denied.status).toBe(403);
    expect(denied.body.detail).toContain("payments-cap");
    // An edit under the same requirements is fine, and needs the full quorum for exactly those arguments.
    const edit = { amount: 4000, to: "acct-1" };
    const first = await respond(id, fin1, { approved: true, modified_args: edit });
    expect(first.body).toMatchObject({ status: "pending", pending_edits: [{ args: edit }] });
    const second = await respond(id, fin2, { approved: true, modified_args: { to: "acct-1", amount: 4000 } });
    expect(second.body).toMatchObject({ status: "approved", response: { modified_args: edit } });
    expect((await read(id)).approval_token).toEqual(expect.any(String));
  });

  it("lets through an edit the policy would simply allow", async () => {
    const id = await park(100);
    // No amount: no payments rule matches, and the default allows the call.
    const allowed = await respond(id, ops, {
      approved: true,
      modified_args: { to: "acct-1", note: "refund" },
    });
    expect(allowed.status).toBe(200);
    expect(allowed.body.status).toBe("approved");
  });
});
