import { describe, expect, it } from "vitest";
import { compilePolicy } from "./compile.ts";
import type { PolicyInput } from "./types.ts";

function input(tool: string, args: unknown = {}, extra: Partial<PolicyInput> = {}): PolicyInput {
  return { tool, args, agent_id: "billing-bot", environment: "production", ...extra };
}

describe("precedence", () => {
  const policy = compilePolicy(`
version: 1
default: allow
rules:
  - id: allow-payments
    match: { tool: "payments.*" }
    decision: allow
  - id: ask-large
    match: { tool: "payments.*", args: "args.amount > 100" }
    decision: approval_required
  - id: ask-large-again
    match: { tool: "payments.*", args: "args.amount > 100" }
    decision: approval_required
  - id: deny-huge
    match: { tool: "payments.*", args: "args.amount > 10000" }
    decision: deny
  - id: override-for-ops
    precedence: 10
    match: { tool: "payments.*", agent: "ops-*" }
    decision: allow
  - id: freeze-in-staging
    precedence: 20
    match: { tool: "**", environment: staging }
    decision: deny
`);

  it("lets the most restrictive decision of the top group win, reporting the first such rule", () => {
    expect(policy.evaluate(input("payments.refund", { amount: 5 })).rule_id).toBe("allow-payments");
    expect(policy.evaluate(input("payments.refund", { amount: 500 })).rule_id).toBe("ask-large");
    expect(policy.evaluate(input("payments.refund", { amount: 50_000 })).rule_id).toBe("deny-huge");
  });

  it("decides by the highest matching precedence group before restrictiveness", () => {
    const ops = { agent_id: "ops-1" };
    expect(policy.evaluate(input("payments.refund", { amount: 50_000 }, ops))).toMatchObject({
      decision: "allow",
      rule_id: "override-for-ops",
    });
    expect(policy.evaluate(input("payments.refund", {}, { ...ops, environment: "staging" })).rule_id).toBe(
      "freeze-in-staging",
    );
  });

  it("falls back to the default when nothing matches", () => {
    expect(policy.evaluate(input("search"))).toMatchObject({ decision: "allow", rule_id: "default" });
  });

  it("indexes exact tool names and globs together without losing file order", () => {
    const p = compilePolicy(`
version: 1
rules:
  - id: glob-first
    match: { tool: "db.*" }
    decision: approval_required
  - id: exact-second
    match: { tool: db.write }
    decision: approval_required
  - id: both
    match: { tool: [db.read, "x.*"] }
    decision: allow
`);
    expect(p.evaluate(input("db.write")).rule_id).toBe("glob-first");
    expect(p.evaluate(input("db.read")).rule_id).toBe("glob-first");
    expect(p.evaluate(input("x.y")).rule_id).toBe("both");
    // The memoised candidates must give the same answers on the second call.
    expect(p.evaluate(input("db.write")).rule_id).toBe("glob-first");
    expect(p.evaluate(input("x.y")).rule_id).toBe("both");
  });

  it("still decides correctly after the candidate memo overflows", () => {
    const p = compilePolicy(`
version: 1
rules:
  - id: any-t
    match: { tool: "t.*" }
    decision: allow
`);
    for (let i = 0; i < 5000; i++) expect(p.evaluate(input(`t.${i}`)).rule_id).toBe("any-t");
    expect(p.evaluate(input("t.1")).rule_id).toBe("any-t");
    expect(p.evaluate(input("u.1")).rule_id).toBe("default");
  });
});

describe("matching on agent and environment", () => {
  const policy = compilePolicy(`
version: 1
rules:
  - id: billing-prod
    match: { tool: "**", agent: ["billing-*", "finance.*"], environment: [production, eu-production] }
    decision: allow
`);

  it("needs the agent and environment constraints to hold", () => {
    expect(policy.evaluate(input("a")).rule_id).toBe("billing-prod");
    expect(policy.evaluate(input("a", {}, { agent_id: "finance.bot" })).rule_id).toBe("billing-prod");
    expect(policy.evaluate(input("a", {}, { environment: "eu-production" })).rule_id).toBe("billing-prod");
    expect(policy.evaluate(input("a", {}, { environment: "staging" })).rule_id).toBe("default");
    expect(policy.evaluate(input("a", {}, { agent_id: "support-bot" })).rule_id).toBe("default");
  });

  it("does not match a constrained rule when the agent or environment is unknown", () => {
    expect(policy.evaluate(input("a", {}, { agent_id: null })).rule_id).toBe("default");
    expect(policy.evaluate(input("a", {}, { environment: null })).rule_id).toBe("default");
  });
});

describe("failing closed", () => {
  const policy = compilePolicy(`
version: 1
default: allow
rules:
  - id: check-amount
    match: { tool: pay, args: "args.amount > 10" }
    decision: approval_required
  - id: check-sql
    match: { tool: sql, args: "args.q matches 'drop'" }
    decision: deny
`);

  it("denies with policy_error when reading args throws", () => {
    const args = {
      get amount(): number {
        throw new Error("boom");
      },
    };
    expect(policy.evaluate(input("pay", args))).toEqual({
      decision: "deny",
      reason: "policy evaluation failed: boom",
      rule_id: "policy_error",
      risk: null,
      approval: null,
      stop_reason: "policy_error",
    });
  });

  it("denies a value too long for a regex instead of letting it slip past", () => {
    const d = policy.evaluate(input("sql", { q: `${"x".repeat(20_000)} drop` }));
    expect(d).toMatchObject({ decision: "deny", rule_id: "policy_error", stop_reason: "policy_error" });
    expect(d.reason).toMatch(/args\.q is longer than 16384/);
  });

  it("denies malformed input rather than throwing", () => {
    const bad = [
      null,
      { tool: 5, args: {}, agent_id: null, environment: null },
      { tool: "pay", args: {}, agent_id: 7, environment: null },
      { tool: "pay", args: {}, agent_id: null, environment: ["prod"] },
      { tool: "x".repeat(2000), args: {}, agent_id: null, environment: null },
    ];
    for (const value of bad) {
      const d = policy.evaluate(value as unknown as PolicyInput);
      expect(d.decision).toBe("deny");
      expect(d.stop_reason).toBe("policy_error");
    }
  });

  it("survives errors whose message cannot be read", () => {
    const hostile = new Proxy(
      {},
      {
        // Reading a field checks for an own property first, so that is where this one throws.
        getOwnPropertyDescriptor() {
          throw Object.create(null);
        },
      },
    );
    expect(policy.evaluate(input("pay", hostile))).toMatchObject({
      decision: "deny",
      reason: "policy evaluation failed: unknown error",
      rule_id: "policy_error",
    });
  });

  it("does not evaluate rules that cannot change the outcome", () => {
    // Once deny-all matches in the top group, the throwing rule below it is never consulted.
    const p = compilePolicy(`
version: 1
rules:
  - id: deny-all
    match: { tool: "**" }
    decision: deny
  - id: reads-args
    match: { tool: "**", args: "args.x exists" }
    decision: deny
`);
    const args = {
      get x(): number {
        throw new Error("should not be read");
      },
    };
    expect(p.evaluate(input("t", args)).rule_id).toBe("deny-all");
  });
});
