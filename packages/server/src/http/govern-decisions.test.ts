// Govern decisions over HTTP: allow, deny and park by policy, audited with the policy version; call ids
// that are idempotent and cannot be reused for another call; run budgets; policy uploads; malformed calls.

import { describe, expect, it } from "vitest";
import { STORAGE_KINDS } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";
import { type Gov, useGovernHttp } from "./govern-test-setup.ts";

describe.each(STORAGE_KINDS)("govern (%s)", (storage) => {
  const g = useGovernHttp(storage);
  const { govern, nextRun } = g;

  it("allows, denies and parks calls, auditing each with the policy version", async () => {
    const { s, agent } = g;
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
    const request = await call<{
      required_roles: string[];
      correlation_id: string;
      tool: { args: unknown };
      require_distinct_roles: boolean;
      escalate_after_seconds: number | null;
      routing: { next_escalation_at: string | null };
    }>(s.url, "GET", `/v1/requests/${parked.body.request_id}`, { key: agent });
    expect(request.body.required_roles).toEqual(["finance"]);
    // The policy's risk tier also sets how the parked request is routed and escalated.
    expect(request.body.require_distinct_roles).toBe(true);
    expect(request.body.escalate_after_seconds).toBe(120);
    expect(request.body.routing.next_escalation_at).not.toBeNull();
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

  it("is idempotent on (agent, run, call) and does not count a replay against the budget", async () => {
    const runId = nextRun();
    const first = await govern({ run_id: runId, call_id: "same", tool: "email.send", args: { to: "a@b.c" } });
    const again = await govern({ run_id: runId, call_id: "same", tool: "email.send", args: { to: "a@b.c" } });
    expect(again.body.id).toBe(first.body.id);
    expect(again.body.request_id).toBe(first.body.request_id);
    expect(again.body.replayed).toBe(true);
    // The email rule says its requests never escalate (escalate_after_seconds: null).
    const parked = await call<{
      escalate_after_seconds: number | null;
      routing: { next_escalation_at: unknown };
    }>(g.s.url, "GET", `/v1/requests/${first.body.request_id}`, { key: g.agent });
    expect(parked.body.escalate_after_seconds).toBeNull();
    expect(parked.body.routing.next_escalation_at).toBeNull();
    const next = await govern({ run_id: runId, call_id: "other", tool: "search.web" });
    expect(next.body.budgets?.remaining.tool_calls).toBe(3);
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

  it("rejects a broken policy whole, with line numbers, and keeps the old one", async () => {
    const { s } = g;
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
    const { s, agent, reviewer } = g;
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
