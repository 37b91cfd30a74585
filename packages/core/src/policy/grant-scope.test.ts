import { describe, expect, it } from "vitest";
import { compilePolicy } from "./compile.ts";
import { outcomesInScope, reviewerGrantProblem } from "./grant-scope.ts";

const POLICY = compilePolicy(`
version: 1
default: deny
risk_tiers:
  high: { required_roles: [finance], required_approvals: 2 }
rules:
  - id: email
    match: { tool: "email.*" }
    decision: approval_required
    required_roles: [ops]
  - id: email-bulk
    match: { tool: "email.bulk" }
    decision: approval_required
    required_roles: [ops, marketing]
  - id: payments-large
    match: { tool: "payments.send", args: "args.amount > 1000" }
    decision: approval_required
    risk: high
  - id: payments-small
    match: { tool: "payments.send" }
    decision: allow
  - id: payments-huge
    match: { tool: "payments.send", args: "args.amount > 100000" }
    decision: deny
  - id: search
    match: { tool: "search.*" }
    decision: allow
  - id: ops-deploys
    match: { tool: "deploy.run", agent: "ops-*" }
    decision: approval_required
    required_approvals: 3
  - id: deploy
    match: { tool: "deploy.run" }
    decision: approval_required
  - id: staging-only
    match: { tool: "cache.flush", environment: staging }
    decision: allow
`);

const scope = (tool: string, agent: string | null = "billing-bot") =>
  outcomesInScope(POLICY.document, { tool, agent_name: agent })
    .map((o) => `${o.rule_id}:${o.decision}`)
    .sort();

describe("outcomesInScope", () => {
  it("lists every rule that could match an exact tool, and the default only when none must", () => {
    expect(scope("email.send")).toEqual(["email:approval_required"]);
    expect(scope("email.bulk")).toEqual(["email-bulk:approval_required", "email:approval_required"]);
    // Conditions are ignored: either payments rule could decide, and so could the unconditional one.
    expect(scope("payments.send")).toEqual([
      "payments-huge:deny",
      "payments-large:approval_required",
      "payments-small:allow",
    ]);
    expect(scope("unknown.tool")).toEqual(["default:deny"]);
    // A rule limited to an environment does not rule out the default.
    expect(scope("cache.flush")).toEqual(["default:deny", "staging-only:allow"]);
  });

  it("follows wildcards across rules, with the default unless one unconditional rule covers it all", () => {
    expect(scope("email.*")).toEqual(["email-bulk:approval_required", "email:approval_required"]);
    expect(scope("email.**")).toEqual([
      "default:deny",
      "email-bulk:approval_required",
      "email:approval_required",
    ]);
    expect(scope("search.*")).toEqual(["search:allow"]);
    expect(scope("**")).toContain("default:deny");
    expect(scope("payments.*")).toContain("default:deny");
  });

  it("drops rules whose agent globs cannot match the grant's agent, and keeps them for any agent", () => {
    expect(scope("deploy.run")).toEqual(["deploy:approval_required"]);
    expect(scope("deploy.run", "ops-bot")).toEqual([
      "deploy:approval_required",
      "ops-deploys:approval_required",
    ]);
    expect(scope("deploy.run", null)).toEqual(["deploy:approval_required", "ops-deploys:approval_required"]);
  });

  it("resolves approval requirements through risk tiers", () => {
    const large = outcomesInScope(POLICY.document, { tool: "payments.send", agent_name: "x" }).find(
      (o) => o.rule_id === "payments-large",
    );
    expect(large?.approval).toMatchObject({ required_roles: ["finance"], required_approvals: 2 });
  });
});

describe("reviewerGrantProblem", () => {
  const problem = (tool: string, roles: string[], agent: string | null = "billing-bot") =>
    reviewerGrantProblem(outcomesInScope(POLICY.document, { tool, agent_name: agent }), roles);

  it("accepts what the reviewer could approve alone", () => {
    expect(problem("email.send", ["ops"])).toBeNull();
    expect(problem("email.*", ["ops", "marketing"])).toBeNull();
    expect(problem("search.*", [])).toBeNull();
    expect(problem("deploy.run", [])).toBeNull();
  });

  it("refuses roles the reviewer lacks, quorums above one, and the default deny", () => {
    expect(problem("email.send", ["finance"])).toMatch(/rule "email" needs roles you do not hold \(ops\)/);
    expect(problem("email.*", ["ops"])).toMatch(
      /rule "email-bulk" needs roles you do not hold \(marketing\)/,
    );
    expect(problem("payments.send", ["finance"])).toMatch(/rule "payments-large" needs 2 approvals/);
    expect(problem("deploy.run", [], "ops-bot")).toMatch(/rule "ops-deploys" needs 3 approvals/);
    expect(problem("unknown.tool", ["ops"])).toMatch(/default outcome denies/);
    expect(problem("**", ["ops", "finance", "marketing"])).not.toBeNull();
    expect(problem("email.**", ["ops", "marketing"])).toMatch(/default outcome denies/);
  });
});
