import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STORAGE_KINDS, startTestServer, type TestServer } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";
import { addReviewer, keyIdOf } from "../testing/reviewers.ts";

const POLICY = `version: 1
default: deny
rules:
  - id: payments
    match: { tool: "payments.send" }
    decision: approval_required
    required_roles: [finance]
    required_approvals: 2
  - id: deploys
    match: { tool: "deploy.run" }
    decision: approval_required
    required_roles: [ops]
  - id: email
    match: { tool: "email.*" }
    decision: approval_required
  - id: no-drops
    match: { tool: "db.*", args: "args.sql matches '(?i)drop'" }
    decision: deny
  - id: db
    match: { tool: "db.*" }
    decision: approval_required
    required_roles: [ops]
`;

type Problem = { code: string; detail: string; errors?: Array<{ path: string }> };
type Gov = { decision: string; rule_id: string; grant_id: string | null };

const HOUR = 3600;

describe.each(STORAGE_KINDS)("standing grants are bounded and need authority (%s)", (storage) => {
  let s: TestServer;
  let agent: string;
  let agentId: string;
  /** Another agent key with the same name. */
  let twin: string;
  let opsReviewer: string;
  let financeReviewer: string;
  let ownerReviewer: string;
  let run = 0;
  const nextRun = () => `run-${storage}-${++run}`;

  beforeAll(async () => {
    s = await startTestServer({ storage });
    [agent, twin, opsReviewer, financeReviewer, ownerReviewer] = await Promise.all([
      s.createKey("agent", "billing-bot"),
      s.createKey("agent", "billing-bot"),
      s.createKey("reviewer", "olga"),
      s.createKey("reviewer", "fiona"),
      s.createKey("reviewer", "oscar"),
    ]);
    agentId = await keyIdOf(s, agent);
    await addReviewer(s, { key: opsReviewer, name: "Olga", roles: ["ops"] });
    await addReviewer(s, { key: financeReviewer, name: "Fiona", roles: ["finance"] });
    await addReviewer(s, { key: ownerReviewer, name: "Oscar", roles: ["ops"], owns_agent_keys: [agentId] });
    const put = await call(s.url, "PUT", "/v1/policy", { key: s.adminKey, body: { source: POLICY } });
    expect(put.status).toBe(200);
  });
  afterAll(() => s.close());

  const grant = (key: string, body: Record<string, unknown>) =>
    call<Problem & { id: string; grantor_roles: string[] | null }>(s.url, "POST", "/v1/grants", {
      key,
      body,
    });
  const govern = (key: string, body: Record<string, unknown>) =>
    call<Gov>(s.url, "POST", "/v1/govern", { key, body: { run_id: nextRun(), args: {}, ...body } });

  it("refuses the exploit: an ops reviewer granting every tool to an agent by name", async () => {
    const byName = await grant(opsReviewer, { agent: "billing-bot", tool: "**", ttl_seconds: HOUR });
    expect(byName.status).toBe(404);
    expect(byName.body.errors?.[0]?.path).toBe("/agent");
    const byId = await grant(opsReviewer, { agent: agentId, tool: "**", ttl_seconds: HOUR });
    expect(byId.status).toBe(403);
    expect(byId.body.code).toBe("grant_not_authorized");
    expect(byId.body.detail).toMatch(/rule "payments" needs 2 approvals|default outcome denies/);

    // Nothing was granted: two finance approvals are still needed, and unknown tools stay denied.
    const payment = await govern(agent, { tool: "payments.send", args: { amount: 5000 } });
    expect(payment.body).toMatchObject({ decision: "approval_required", rule_id: "payments" });
    const unknown = await govern(agent, { tool: "shell.exec" });
    expect(unknown.body).toMatchObject({ decision: "deny", rule_id: "default" });
    const list = await call<{ data: unknown[] }>(s.url, "GET", "/v1/grants", { key: s.adminKey });
    expect(list.body.data).toEqual([]);
  });

  it("refuses unbounded grants, and expiries beyond 30 days, naming the field", async () => {
    const unbounded = await grant(s.adminKey, { agent: agentId, tool: "deploy.run" });
    expect(unbounded.status).toBe(400);
    expect(unbounded.body.detail).toMatch(/must be bounded/);
    expect(unbounded.body.errors?.map((e) => e.path)).toEqual(["/expires_at", "/ttl_seconds", "/max_uses"]);

    const longTtl = await grant(s.adminKey, {
      agent: agentId,
      tool: "deploy.run",
      ttl_seconds: 31 * 24 * HOUR,
    });
    expect(longTtl.status).toBe(400);
    expect(longTtl.body.errors?.[0]?.path).toBe("/ttl_seconds");

    const farAway = new Date(Date.now() + 31 * 24 * HOUR * 1000).toISOString();
    const longExpiry = await grant(s.adminKey, { agent: agentId, tool: "deploy.run", expires_at: farAway });
    expect(longExpiry.status).toBe(400);
    expect(longExpiry.body.errors?.[0]?.path).toBe("/expires_at");

    const both = await grant(s.adminKey, {
      agent: agentId,
      tool: "deploy.run",
      ttl_seconds: HOUR,
      expires_at: new Date(Date.now() + HOUR * 1000).toISOString(),
    });
    expect(both.status).toBe(400);

    const soon = new Date(Date.now() + 29 * 24 * HOUR * 1000).toISOString();
    expect((await grant(s.adminKey, { agent: agentId, tool: "x.a", expires_at: soon })).status).toBe(201);
    expect((await grant(s.adminKey, { agent: agentId, tool: "x.b", max_uses: 3 })).status).toBe(201);
  });

  it("refuses grant conditions with a regular expression that backtracks exponentially", async () => {
    for (const pattern of ["(?:a|a)*!", "(a|a)*b", "(?:.|.)*!"]) {
      const res = await grant(s.adminKey, {
        agent: agentId,
        tool: "deploy.run",
        max_uses: 1,
        conditions: { field: "args.note", op: "matches", value: pattern },
      });
      expect(res.status).toBe(400);
      expect(res.body.detail).toMatch(/repeated alternation/);
    }
  });

  it("names the agent by the id of an existing agent key", async () => {
    const missing = await grant(s.adminKey, { agent: "key_nope", tool: "deploy.run", max_uses: 1 });
    expect(missing.status).toBe(404);
    const notAgent = await grant(s.adminKey, {
      agent: await keyIdOf(s, opsReviewer),
      tool: "deploy.run",
      max_uses: 1,
    });
    expect(notAgent.status).toBe(400);
    expect(notAgent.body.errors?.[0]?.path).toBe("/agent");
  });

  it("lets a reviewer grant what they could approve alone, for that agent key only", async () => {
    const given = await grant(opsReviewer, { agent: agentId, tool: "deploy.run", max_uses: 5 });
    expect(given.status).toBe(201);
    expect(given.body.grantor_roles).toEqual(["ops"]);
    const allowed = await govern(agent, { tool: "deploy.run" });
    expect(allowed.body).toMatchObject({ decision: "allow", grant_id: given.body.id });
    // The other key with the same name is not covered.
    const other = await govern(twin, { tool: "deploy.run" });
    expect(other.body).toMatchObject({ decision: "approval_required", rule_id: "deploys" });

    // A wildcard is fine when every rule it reaches is theirs to approve (deny rules still win).
    const db = await grant(opsReviewer, { agent: agentId, tool: "db.*", ttl_seconds: HOUR });
    expect(db.status).toBe(201);
    expect((await govern(agent, { tool: "db.query", args: { sql: "select 1" } })).body.decision).toBe(
      "allow",
    );
    expect((await govern(agent, { tool: "db.query", args: { sql: "DROP TABLE x" } })).body).toMatchObject({
      decision: "deny",
      rule_id: "no-drops",
    });
  });

  it("refuses a reviewer's grant that needs roles they lack, more approvals, or a default deny", async () => {
    const cases: Array<[string, string, RegExp]> = [
      [financeReviewer, "deploy.run", /rule "deploys" needs roles you do not hold \(ops\)/],
      [financeReviewer, "payments.send", /rule "payments" needs 2 approvals/],
      [opsReviewer, "shell.exec", /default outcome denies/],
      [opsReviewer, "email.**", /default outcome denies/],
      [opsReviewer, "*.run", /default outcome denies/],
    ];
    for (const [key, tool, reason] of cases) {
      const res = await grant(key, { agent: agentId, tool, ttl_seconds: HOUR });
      expect(res.status, tool).toBe(403);
      expect(res.body.code).toBe("grant_not_authorized");
      expect(res.body.detail).toMatch(reason);
    }
    // A grant for a run of any agent is for admins only.
    const runOnly = await grant(opsReviewer, { run_id: "r-any", tool: "deploy.run", ttl_seconds: HOUR });
    expect(runOnly.status).toBe(403);
    expect((await govern(agent, { tool: "payments.send" })).body.decision).toBe("approval_required");
    expect((await govern(agent, { tool: "shell.exec" })).body.decision).toBe("deny");
  });

  it("refuses a grant from a reviewer who owns the agent key", async () => {
    const res = await grant(ownerReviewer, { agent: agentId, tool: "deploy.run", ttl_seconds: HOUR });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe("separation_of_duties");
  });

  it("lets an admin grant anything bounded, a default deny included", async () => {
    const twinId = await keyIdOf(s, twin);
    const pay = await grant(s.adminKey, { agent: twinId, tool: "payments.send", max_uses: 1 });
    expect(pay.status).toBe(201);
    expect(pay.body.grantor_roles).toBeNull();
    expect((await govern(twin, { tool: "payments.send" })).body).toMatchObject({ decision: "allow" });
    const shell = await grant(s.adminKey, { agent: twinId, tool: "shell.*", ttl_seconds: HOUR });
    expect(shell.status).toBe(201);
    expect((await govern(twin, { tool: "shell.exec" })).body).toMatchObject({
      decision: "allow",
      grant_id: shell.body.id,
    });
    const runOnly = await grant(s.adminKey, { run_id: "r-any", tool: "deploy.run", max_uses: 1 });
    expect(runOnly.status).toBe(201);
  });

  it("stops using a reviewer's grant once the policy asks for more than they could approve", async () => {
    const given = await grant(opsReviewer, { agent: agentId, tool: "email.send", ttl_seconds: HOUR });
    expect(given.status).toBe(201);
    expect((await govern(agent, { tool: "email.send" })).body.grant_id).toBe(given.body.id);
    const stricter = POLICY.replace(
      'match: { tool: "email.*" }\n    decision: approval_required',
      'match: { tool: "email.*" }\n    decision: approval_required\n    required_approvals: 2',
    );
    const unmentioned = POLICY.replace('tool: "email.*"', 'tool: "mail.*"');
    try {
      for (const [source, decision] of [
        [stricter, "approval_required"],
        [unmentioned, "deny"],
      ] as const) {
        const put = await call(s.url, "PUT", "/v1/policy", { key: s.adminKey, body: { source } });
        expect(put.status).toBe(200);
        const res = await govern(agent, { tool: "email.send" });
        expect(res.body).toMatchObject({ decision, grant_id: null });
      }
    } finally {
      await call(s.url, "PUT", "/v1/policy", { key: s.adminKey, body: { source: POLICY } });
    }
    expect((await govern(agent, { tool: "email.send" })).body.grant_id).toBe(given.body.id);
  });
});
