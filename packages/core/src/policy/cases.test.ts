import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runPolicyCases } from "./cases.ts";
import { compilePolicy } from "./compile.ts";
import { PolicyError } from "./problems.ts";

const policy = compilePolicy(`
version: 1
risk_tiers: { high: { required_roles: [ops, finance], required_approvals: 2 } }
rules:
  - id: refunds
    match: { tool: payments.refund, args: "args.amount > 100" }
    decision: approval_required
    risk: high
  - id: small
    match: { tool: payments.refund }
    decision: allow
`);

describe("runPolicyCases", () => {
  it("passes cases whose expectations hold, comparing only the fields named", () => {
    const report = runPolicyCases(
      policy,
      `
cases:
  - name: small refund
    input: { tool: payments.refund, args: { amount: 5 } }
    expect: { decision: allow, rule_id: small, risk: null, stop_reason: null }
  - name: large refund
    input: { tool: payments.refund, args: { amount: 500 }, agent_id: billing, environment: prod }
    expect: { decision: approval_required, required_roles: [finance, ops], required_approvals: 2, ttl_seconds: null }
  - name: single role given as a string is compared as a list
    input: { tool: payments.refund, args: { amount: 500 } }
    expect: { decision: approval_required, priority: normal }
`,
    );
    expect(report).toMatchObject({ passed: 3, failed: 0, total: 3 });
    expect(report.results.map((r) => r.line)).toEqual([3, 6, 9]);
    expect(report.results.every((r) => r.diff === "")).toBe(true);
  });

  it("fails cases with a readable diff", () => {
    const report = runPolicyCases(
      policy,
      `cases:
  - name: wrong guess
    input: { tool: payments.refund, args: { amount: 500 } }
    expect: { decision: allow, rule_id: small, required_roles: ops }
`,
    );
    expect(report).toMatchObject({ passed: 0, failed: 1, total: 1 });
    const [result] = report.results;
    expect(result?.passed).toBe(false);
    expect(result?.actual.rule_id).toBe("refunds");
    expect(result?.diff).toBe(
      [
        'decision: expected "allow", got "approval_required"',
        'rule_id: expected "small", got "refunds"',
        'required_roles: expected ["ops"], got ["finance","ops"]',
      ].join("\n"),
    );
  });

  it("defaults missing input fields: empty args, no agent, no environment", () => {
    const p = compilePolicy(
      "version: 1\ndefault: allow\nrules:\n  - id: needs-env\n    match: {tool: t, args: 'environment exists or agent_id exists or args.x exists'}\n    decision: deny\n",
    );
    const report = runPolicyCases(
      p,
      "cases:\n  - name: bare\n    input: { tool: t }\n    expect: { decision: allow }\n",
    );
    expect(report.passed).toBe(1);
  });

  it("rejects a malformed cases file with every problem located", () => {
    let caught: unknown;
    try {
      runPolicyCases(
        policy,
        [
          "cases:", // 1
          "  - name: a", // 2
          "    input: { args: {} }", // 3
          "    expect: { decision: yes }", // 4
          "  - name: a", // 5
          "    input: { tool: t, agnet_id: x }", // 6
          "    expect: { decision: allow, rule: r }", // 7
        ].join("\n"),
      );
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PolicyError);
    expect((caught as PolicyError).problems.map((p) => `${p.line}:${p.column} ${p.message}`)).toEqual([
      '3:12 missing required key "tool"',
      '4:25 expected one of allow, approval_required, deny, got "yes"',
      '5:11 duplicate case name "a"',
      '6:23 unknown key "agnet_id" (expected one of: tool, args, agent_id, environment, context)',
      expect.stringMatching(/^7:32 unknown key "rule"/),
    ]);
  });

  it("rejects an empty or missing cases list", () => {
    expect(() => runPolicyCases(policy, "cases: []\n")).toThrow(/non-empty list/);
    expect(() => runPolicyCases(policy, "tests: []\n")).toThrow(PolicyError);
  });
});

describe("examples/policy.yaml", () => {
  const read = (name: string) =>
    readFileSync(new URL(`../../../../examples/${name}`, import.meta.url), "utf8");

  it("passes every fixture in examples/policy.cases.yaml", () => {
    const report = runPolicyCases(compilePolicy(read("policy.yaml")), read("policy.cases.yaml"));
    const failures = report.results.filter((r) => !r.passed).map((r) => `${r.name}:\n${r.diff}`);
    expect(failures).toEqual([]);
    expect(report.total).toBeGreaterThanOrEqual(25);
  });
});
