// Govern over HTTP against the kill switch and standing grants: the kill switch denies every call of its
// scope, cancels pending requests and voids approvals; grants allow matching calls but never beat a deny.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { STORAGE_KINDS } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";
import { keyIdOf } from "../testing/reviewers.ts";
import { useGovernHttp } from "./govern-test-setup.ts";

describe.each(STORAGE_KINDS)("govern (%s)", (storage) => {
  const g = useGovernHttp(storage);
  const { govern, nextRun } = g;

  it("kill switch wins over an approval given before it: no token on replay, no consumption", async () => {
    const { s, agent, reviewer } = g;
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

  it("kill switch: denies the very next call of its scope, cancels its pending requests, and can be released", async () => {
    const { s, agent } = g;
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
    const { s } = g;
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
            // A body with a "__proto__" key is refused outright (prototype-poisoning protection):
            // a 400 problem, which is not a decision and allows nothing either.
            if (res.status === 400) {
              expect(JSON.stringify(args)).toContain('"__proto__"');
              return;
            }
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
    const { s, agent, reviewer } = g;
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
});
