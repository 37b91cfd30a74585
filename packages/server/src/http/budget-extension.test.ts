import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STORAGE_KINDS, startTestServer, type TestServer } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";
import { addReviewer } from "../testing/reviewers.ts";

const POLICY = `version: 1
default: { decision: allow }
budgets:
  max_tool_calls: 2
  max_usd: 1.0
  on_exceed: approval_required
  required_roles: [ops]
`;

type Gov = {
  decision: string;
  rule_id: string;
  stop_reason: string | null;
  request_id: string | null;
  budgets: { exceeded: string[]; extensions: number; remaining: Record<string, number> } | null;
};

describe.each(STORAGE_KINDS)("budgets a human may extend (%s)", (storage) => {
  let s: TestServer;
  let agent: string;
  let reviewer: string;
  beforeAll(async () => {
    s = await startTestServer({ storage });
    [agent, reviewer] = await Promise.all([s.createKey("agent"), s.createKey("reviewer")]);
    await addReviewer(s, { key: reviewer, name: "Olga", roles: ["ops"] });
    expect(
      (await call(s.url, "PUT", "/v1/policy", { key: s.adminKey, body: { source: POLICY } })).status,
    ).toBe(200);
  });
  afterAll(() => s.close());

  const govern = (body: Record<string, unknown>) =>
    call<Gov>(s.url, "POST", "/v1/govern", { key: agent, body });

  it("asks for approval when a run goes over budget, and an approval extends the budget", async () => {
    expect((await govern({ run_id: "r1", call_id: "1", tool: "t" })).body.decision).toBe("allow");
    expect((await govern({ run_id: "r1", call_id: "2", tool: "t" })).body.decision).toBe("allow");
    const over = await govern({ run_id: "r1", call_id: "3", tool: "t" });
    expect(over.body).toMatchObject({ decision: "approval_required", rule_id: "budget" });
    expect(over.body.budgets?.exceeded).toEqual(["max_tool_calls"]);
    const request = await call<{ required_roles: string[]; governance: { kind: string } }>(
      s.url,
      "GET",
      `/v1/requests/${over.body.request_id}`,
      { key: agent },
    );
    expect(request.body.required_roles).toEqual(["ops"]);
    expect(request.body.governance.kind).toBe("budget_extension");
    await call(s.url, "POST", `/v1/requests/${over.body.request_id}/respond`, {
      key: reviewer,
      body: { approved: true },
    });
    const next = await govern({ run_id: "r1", call_id: "4", tool: "t" });
    expect(next.body.decision).toBe("allow");
    expect(next.body.budgets?.extensions).toBe(1);
  });

  it("counts reported cost against max_usd", async () => {
    expect((await govern({ run_id: "r2", tool: "t", cost_usd: 0.6 })).body.decision).toBe("allow");
    const over = await govern({ run_id: "r2", tool: "t", cost_usd: 0.6 });
    expect(over.body.decision).toBe("approval_required");
    expect(over.body.budgets?.exceeded).toEqual(["max_usd"]);
  });
});
