import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.ts";
import { compilePolicy, MAX_POLICY_LENGTH } from "./compile.ts";
import { PolicyError, type PolicyProblem } from "./problems.ts";

function problemsOf(text: string): PolicyProblem[] {
  try {
    compilePolicy(text);
  } catch (err) {
    if (err instanceof PolicyError) return err.problems;
    throw err;
  }
  throw new Error("expected the policy to be rejected");
}

function brief(text: string): string[] {
  return problemsOf(text).map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`);
}

const call = { args: {}, agent_id: null, environment: null };

describe("compilePolicy: errors", () => {
  it("reports every problem with its line and column, in source order", () => {
    const text = [
      "version: 1", // 1
      "colour: blue", // 2
      "rules:", // 3
      "  - id: first", // 4
      "    match:", // 5
      "      tool: db.write", // 6
      '      args: "args.n >> 3"', // 7
      "    decision: maybe", // 8
      "  - id: second", // 9
      "    match: { tool: x, agnt: y }", // 10
      "    decision: allow", // 11
      "    required_roles: [ops]", // 12
    ].join("\n");
    expect(brief(text)).toEqual([
      '2:1 $.colour: unknown key "colour" (expected one of: version, default, risk_tiers, budgets, rules)',
      expect.stringMatching(/^7:13 \$\.rules\[0\]\.match\.args: cannot parse condition "args\.n >> 3"/),
      '8:15 $.rules[0].decision: expected one of allow, approval_required, deny, got "maybe"',
      '10:23 $.rules[1].match.agnt: unknown key "agnt" (expected one of: tool, agent, environment, args)',
      "12:5 $.rules[1].required_roles: required_roles applies only when the decision is approval_required",
    ]);
  });

  it("is a ValidationError with an invalid_policy code and problems as field errors", () => {
    let caught: unknown;
    try {
      compilePolicy("version: 1\nrules: 3\n");
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    const err = caught as PolicyError;
    expect(err.code).toBe("invalid_policy");
    expect(err.status).toBe(400);
    expect(err.message).toBe("invalid policy at line 2: $.rules: rules must be a list");
    expect(err.errors).toEqual([{ path: "$.rules", message: "rules must be a list", line: 2, column: 8 }]);
  });

  it("reports YAML syntax errors with their position", () => {
    const problems = problemsOf("version: 1\nrules:\n  - id: a\n   bad: [\n");
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]?.line).toBeGreaterThanOrEqual(3);
  });

  it("refuses duplicate YAML keys and unknown tags", () => {
    expect(brief("version: 1\nversion: 1\n")[0]).toMatch(/^2:1 .*unique/);
    expect(brief("version: 1\nrules: !!weird []\n").join()).toMatch(/tag/i);
  });

  it("refuses duplicate rule ids, pointing back to the first", () => {
    const text =
      "version: 1\nrules:\n  - id: a\n    match: {tool: x}\n    decision: allow\n  - id: a\n    match: {tool: y}\n    decision: deny\n";
    expect(brief(text)).toEqual(['6:9 $.rules[1].id: duplicate rule id "a" (first used at line 3)']);
  });

  it.each([
    ["a rule without match", "rules:\n  - id: a\n    decision: allow\n", /missing required key "match"/],
    [
      "a match without tool",
      "rules:\n  - id: a\n    match: {agent: x}\n    decision: allow\n",
      /missing required key "tool"/,
    ],
    ["an empty tool list", "rules:\n  - id: a\n    match: {tool: []}\n    decision: allow\n", /empty list/],
    [
      "a reserved rule id",
      "rules:\n  - id: default\n    match: {tool: x}\n    decision: allow\n",
      /reserved/,
    ],
    ["a bad rule id", "rules:\n  - id: 'has space'\n    match: {tool: x}\n    decision: allow\n", /rule id/],
    [
      "an unknown risk tier",
      "rules:\n  - id: a\n    match: {tool: x}\n    decision: deny\n    risk: huge\n",
      /unknown risk tier "huge"/,
    ],
    [
      "a bad glob",
      "rules:\n  - id: a\n    match: {tool: [ok, 'a***']}\n    decision: allow\n",
      /\$\.rules\[0\]\.match\.tool\[1\]: `\*\*\*`/,
    ],
    [
      "a fractional precedence",
      "rules:\n  - id: a\n    precedence: 1.5\n    match: {tool: x}\n    decision: allow\n",
      /expected an integer/,
    ],
    [
      "zero approvals",
      "rules:\n  - id: a\n    match: {tool: x}\n    decision: approval_required\n    required_approvals: 0\n",
      /between 1 and/,
    ],
    [
      "a bad priority",
      "rules:\n  - id: a\n    match: {tool: x}\n    decision: approval_required\n    priority: asap\n",
      /expected one of low, normal, high, urgent/,
    ],
    [
      "an invalid regex",
      "rules:\n  - id: a\n    match: {tool: x, args: \"args.a matches '('\"}\n    decision: deny\n",
      /invalid regular expression/,
    ],
    [
      "a regex with repeated alternation",
      "rules:\n  - id: a\n    match: {tool: x, args: \"args.a matches '(a|a)*b'\"}\n    decision: deny\n",
      /\$\.rules\[0\]\.match\.args.*repeated alternation/,
    ],
    ["an unknown tier key", "risk_tiers:\n  high: {required_role: ops}\n", /unknown key "required_role"/],
    ["a wrong version", "", /version must be 1/],
    ["an unknown default key", "default: {decision: allow, because: x}\n", /unknown key "because"/],
    ["a bad default", "default: sometimes\n", /expected one of allow/],
    ["budgets without limits", "budgets: {on_exceed: deny}\n", /at least one of max_steps/],
    ["a negative budget", "budgets: {max_usd: -1}\n", /at least 0/],
    [
      "a bad on_exceed",
      "budgets: {max_steps: 5, on_exceed: allow}\n",
      /expected one of deny, approval_required/,
    ],
    [
      "approval fields on a denying budget",
      "budgets: {max_steps: 5, required_approvals: 2}\n",
      /applies only when/,
    ],
  ])("refuses %s", (_what, body, message) => {
    const text = _what === "a wrong version" ? "version: 2\n" : `version: 1\n${body}`;
    expect(brief(text).join("\n")).toMatch(message);
  });

  it("refuses an over-long policy before parsing it", () => {
    const text = `version: 1\n#${"x".repeat(MAX_POLICY_LENGTH)}\n`;
    expect(brief(text)).toEqual([`1:1 $: a policy is at most ${MAX_POLICY_LENGTH} characters`]);
  });

  it("refuses a document that is not a mapping", () => {
    expect(brief("- 1\n- 2\n")).toEqual(["1:1 $: expected a mapping, got a list"]);
    expect(brief("")).toEqual(["1:1 $: expected a mapping, got null"]);
  });
});

describe("compilePolicy: document and version", () => {
  const a = `
version: 1
rules:
  - id: big
    match: { tool: payments.refund, args: "args.amount > 10" }
    decision: deny
`;
  const b = `# same policy, other formatting
rules:
- decision: deny
  match:
    args: { field: args.amount, op: ">", value: 10 }
    tool: [payments.refund]
  id: big
version: 1
`;

  it("normalises the document and hashes it, so formatting does not change the version", () => {
    const pa = compilePolicy(a);
    const pb = compilePolicy(b);
    expect(pa.version).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(pb.version).toBe(pa.version);
    expect(pa.document.rules[0]).toEqual({
      id: "big",
      precedence: 0,
      match: { tool: ["payments.refund"], args: { field: "args.amount", op: ">", value: 10 } },
      decision: "deny",
    });
    expect(pa.source).toBe(a);
  });

  it("changes the version when the meaning changes", () => {
    expect(compilePolicy(a.replace("> 10", "> 11")).version).not.toBe(compilePolicy(a).version);
  });

  it("lists rules with their lines", () => {
    expect(compilePolicy(a).rules).toEqual([
      { id: "big", description: null, precedence: 0, decision: "deny", risk: null, line: 4 },
    ]);
  });

  it("defaults to deny with rule_id default", () => {
    const p = compilePolicy("version: 1\n");
    expect(p.evaluate({ tool: "x", ...call })).toEqual({
      decision: "deny",
      reason: "no rule matched",
      rule_id: "default",
      risk: null,
      approval: null,
      stop_reason: "policy_denied",
    });
    expect(p.budgets).toBeNull();
    expect(p.document.default).toEqual({ decision: "deny", reason: "no rule matched" });
  });

  it("accepts the default as a bare decision or a full outcome", () => {
    expect(compilePolicy("version: 1\ndefault: allow\n").evaluate({ tool: "x", ...call })).toMatchObject({
      decision: "allow",
      rule_id: "default",
      stop_reason: null,
    });
    const p = compilePolicy(
      "version: 1\nrisk_tiers: {mid: {required_roles: [ops]}}\ndefault: {decision: approval_required, risk: mid, reason: ask}\n",
    );
    expect(p.evaluate({ tool: "x", ...call })).toEqual({
      decision: "approval_required",
      reason: "ask",
      rule_id: "default",
      risk: "mid",
      approval: {
        required_roles: ["ops"],
        required_approvals: 1,
        ttl_seconds: null,
        priority: "normal",
        require_distinct_roles: false,
      },
      stop_reason: null,
    });
  });
});

describe("compilePolicy: risk tiers", () => {
  const text = `
version: 1
risk_tiers:
  high: { required_roles: [ops], required_approvals: 2, ttl_seconds: 3600, priority: high }
rules:
  - id: tier-only
    match: { tool: a }
    decision: approval_required
    risk: high
  - id: overridden
    match: { tool: b }
    decision: approval_required
    risk: high
    required_roles: finance
    ttl_seconds: 900
  - id: no-tier
    match: { tool: c }
    decision: approval_required
  - id: risky-deny
    description: labelled denial
    match: { tool: d }
    decision: deny
    risk: high
`;
  const p = compilePolicy(text);

  it("fills approval fields from the tier", () => {
    expect(p.evaluate({ tool: "a", ...call }).approval).toEqual({
      required_roles: ["ops"],
      required_approvals: 2,
      ttl_seconds: 3600,
      priority: "high",
      require_distinct_roles: false,
    });
  });

  it("lets explicit rule fields override the tier field by field", () => {
    expect(p.evaluate({ tool: "b", ...call })).toMatchObject({
      risk: "high",
      approval: { required_roles: ["finance"], required_approvals: 2, ttl_seconds: 900, priority: "high" },
    });
  });

  it("uses built-in defaults without a tier", () => {
    expect(p.evaluate({ tool: "c", ...call }).approval).toEqual({
      required_roles: [],
      required_approvals: 1,
      ttl_seconds: null,
      priority: "normal",
      require_distinct_roles: false,
    });
  });

  it("reports the risk of a deny but no approval, and falls back to the description as reason", () => {
    expect(p.evaluate({ tool: "d", ...call })).toEqual({
      decision: "deny",
      reason: "labelled denial",
      rule_id: "risky-deny",
      risk: "high",
      approval: null,
      stop_reason: "policy_denied",
    });
  });

  it("carries escalation and distinct roles from the rule or its tier, null meaning never", () => {
    const escalating = compilePolicy(`version: 1
risk_tiers:
  quorum: { required_roles: [finance, legal], required_approvals: 2, require_distinct_roles: true, escalate_after_seconds: 300 }
rules:
  - { id: tiered, match: { tool: t }, decision: approval_required, risk: quorum }
  - { id: never, match: { tool: n }, decision: approval_required, risk: quorum, escalate_after_seconds: null }
  - { id: plain, match: { tool: p }, decision: approval_required }
`);
    expect(escalating.evaluate({ tool: "t", ...call }).approval).toMatchObject({
      require_distinct_roles: true,
      escalate_after_seconds: 300,
    });
    expect(escalating.evaluate({ tool: "n", ...call }).approval).toMatchObject({
      require_distinct_roles: true,
      escalate_after_seconds: null,
    });
    const plain = escalating.evaluate({ tool: "p", ...call }).approval;
    expect(plain?.require_distinct_roles).toBe(false);
    expect(plain && "escalate_after_seconds" in plain).toBe(false);
  });

  it("refuses malformed escalation and distinct-role fields, and them on other outcomes", () => {
    let error: unknown;
    try {
      compilePolicy(`version: 1
rules:
  - { id: a, match: { tool: a }, decision: approval_required, escalate_after_seconds: 0 }
  - { id: b, match: { tool: b }, decision: approval_required, require_distinct_roles: "yes" }
  - { id: c, match: { tool: c }, decision: allow, escalate_after_seconds: 60 }
`);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PolicyError);
    expect((error as PolicyError).problems.map((p) => [p.path, p.line])).toEqual([
      ["$.rules[0].escalate_after_seconds", 3],
      ["$.rules[1].require_distinct_roles", 4],
      ["$.rules[2].escalate_after_seconds", 5],
    ]);
  });

  it("returns frozen decisions that callers cannot corrupt", () => {
    const d = p.evaluate({ tool: "a", ...call });
    expect(Object.isFrozen(d)).toBe(true);
    expect(Object.isFrozen(d.approval)).toBe(true);
    expect(Object.isFrozen(d.approval?.required_roles)).toBe(true);
  });
});

describe("compilePolicy: budgets", () => {
  it("parses the budgets block with the approval an extension needs", () => {
    const p = compilePolicy(`
version: 1
risk_tiers: { mid: { required_roles: [ops], ttl_seconds: 600 } }
budgets: { max_steps: 200, max_tool_calls: 100, max_seconds: 3600, max_usd: 5.0, on_exceed: approval_required, risk: mid }
`);
    expect(p.budgets).toEqual({
      max_steps: 200,
      max_tool_calls: 100,
      max_seconds: 3600,
      max_usd: 5,
      on_exceed: "approval_required",
      risk: "mid",
      approval: {
        required_roles: ["ops"],
        required_approvals: 1,
        ttl_seconds: 600,
        priority: "normal",
        require_distinct_roles: false,
      },
    });
    expect(p.document.budgets).toEqual({
      max_steps: 200,
      max_tool_calls: 100,
      max_seconds: 3600,
      max_usd: 5,
      on_exceed: "approval_required",
      risk: "mid",
    });
  });

  it("defaults on_exceed to deny", () => {
    expect(compilePolicy("version: 1\nbudgets: { max_usd: 1 }\n").budgets).toEqual({
      max_steps: null,
      max_tool_calls: null,
      max_seconds: null,
      max_usd: 1,
      on_exceed: "deny",
      risk: null,
      approval: null,
    });
  });
});
