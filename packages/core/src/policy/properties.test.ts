import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compilePolicy } from "./compile.ts";
import { compileGlob } from "./glob.ts";
import type { PolicyDecisionKind, PolicyInput } from "./types.ts";

/**
 * Property tests: random rule sets against an independent, deliberately naive model of the
 * precedence rules, plus determinism and fail-closed behaviour.
 */

const TOOLS = ["a.x", "a.y", "b.x", "b.y.z", "c"];
const PATTERNS = [...TOOLS, "a.*", "*.x", "**", "b.**", "*", "?.y", "**.z"];
const ENVS = ["prod", "dev"];
const SEVERITY: Record<PolicyDecisionKind, number> = { allow: 0, approval_required: 1, deny: 2 };

type Cond =
  | { kind: "none" }
  | { kind: "gt"; k: number }
  | { kind: "eq"; v: string }
  | { kind: "not-gt"; k: number };

interface RuleModel {
  id: string;
  precedence: number;
  decision: PolicyDecisionKind;
  tools: string[];
  env: string | null;
  cond: Cond;
}

const condArb: fc.Arbitrary<Cond> = fc.oneof(
  fc.constant<Cond>({ kind: "none" }),
  fc.integer({ min: -5, max: 5 }).map((k): Cond => ({ kind: "gt", k })),
  fc.constantFrom("v1", "v2").map((v): Cond => ({ kind: "eq", v })),
  fc.integer({ min: -5, max: 5 }).map((k): Cond => ({ kind: "not-gt", k })),
);

const rulesArb = fc
  .array(
    fc.record({
      precedence: fc.integer({ min: 0, max: 2 }),
      decision: fc.constantFrom<PolicyDecisionKind>("allow", "approval_required", "deny"),
      tools: fc.uniqueArray(fc.constantFrom(...PATTERNS), { minLength: 1, maxLength: 3 }),
      env: fc.option(fc.constantFrom(...ENVS), { nil: null }),
      cond: condArb,
    }),
    { maxLength: 12 },
  )
  .map((rules) => rules.map((r, i): RuleModel => ({ ...r, id: `r${i}` })));

const defaultArb = fc.constantFrom<PolicyDecisionKind>("allow", "approval_required", "deny");

const argsArb = fc.record(
  {
    n: fc.oneof(fc.integer({ min: -8, max: 8 }), fc.integer({ min: -8, max: 8 }).map(String)),
    s: fc.constantFrom("v1", "v2", "v3"),
  },
  { requiredKeys: [] },
);

const inputArb = fc.record({
  tool: fc.constantFrom(...TOOLS, "d.q"),
  args: argsArb,
  agent_id: fc.constant(null),
  environment: fc.option(fc.constantFrom(...ENVS), { nil: null }),
});

function conditionYaml(c: Cond): unknown {
  switch (c.kind) {
    case "none":
      return undefined;
    case "gt":
      return `args.n > ${c.k}`;
    case "eq":
      return { field: "args.s", op: "==", value: c.v };
    case "not-gt":
      return { not: `args.n > ${c.k}` };
  }
}

/** YAML is a superset of JSON, so the generated document is written as JSON. */
function policyText(rules: RuleModel[], fallback: PolicyDecisionKind, extra: object[] = []): string {
  return JSON.stringify({
    version: 1,
    default: { decision: fallback },
    rules: [
      ...extra,
      ...rules.map((r) => ({
        id: r.id,
        precedence: r.precedence,
        decision: r.decision,
        match: { tool: r.tools, environment: r.env ?? undefined, args: conditionYaml(r.cond) },
      })),
    ],
  });
}

/** A slow, obviously correct glob matcher to check the compiled one against. */
function naiveGlob(p: string, s: string): boolean {
  if (p === "") return s === "";
  if (p.startsWith("**")) {
    for (let i = 0; i <= s.length; i++) if (naiveGlob(p.slice(2), s.slice(i))) return true;
    return false;
  }
  if (p[0] === "*") {
    for (let i = 0; i <= s.length; i++) {
      if (naiveGlob(p.slice(1), s.slice(i))) return true;
      if (s[i] === ".") return false;
    }
    return false;
  }
  if (p[0] === "?") return s.length > 0 && s[0] !== "." && naiveGlob(p.slice(1), s.slice(1));
  return s.length > 0 && s[0] === p[0] && naiveGlob(p.slice(1), s.slice(1));
}

function modelMatches(rule: RuleModel, input: PolicyInput): boolean {
  if (!rule.tools.some((t) => naiveGlob(t, input.tool))) return false;
  if (rule.env !== null && rule.env !== input.environment) return false;
  const n = (input.args as { n?: unknown }).n;
  const s = (input.args as { s?: unknown }).s;
  switch (rule.cond.kind) {
    case "none":
      return true;
    case "gt":
      return typeof n === "number" && n > rule.cond.k;
    case "eq":
      return s === rule.cond.v;
    case "not-gt":
      return !(typeof n === "number" && n > rule.cond.k);
  }
}

describe("policy properties", () => {
  it("the compiled glob matcher agrees with a naive one", () => {
    const chars = fc.constantFrom("a", "b", ".", "*", "?");
    fc.assert(
      fc.property(
        fc.string({ unit: chars, minLength: 1, maxLength: 7 }).filter((p) => !p.includes("***")),
        fc.string({ unit: fc.constantFrom("a", "b", "."), maxLength: 8 }),
        (pattern, name) => compileGlob(pattern).test(name) === naiveGlob(pattern, name),
      ),
      { numRuns: 2000 },
    );
  });

  it("follows the precedence model: top group, then deny > approval_required > allow, then file order", () => {
    fc.assert(
      fc.property(
        rulesArb,
        defaultArb,
        fc.array(inputArb, { minLength: 1, maxLength: 8 }),
        (rules, fallback, inputs) => {
          const policy = compilePolicy(policyText(rules, fallback));
          for (const input of inputs) {
            const result = policy.evaluate(input);
            const matched = rules.filter((r) => modelMatches(r, input));
            if (matched.length === 0) {
              expect(result.rule_id).toBe("default");
              expect(result.decision).toBe(fallback);
              continue;
            }
            const top = Math.max(...matched.map((r) => r.precedence));
            const group = matched.filter((r) => r.precedence === top);
            // Deny overrides: any deny in the winning group makes the result a deny.
            if (group.some((r) => r.decision === "deny")) expect(result.decision).toBe("deny");
            const worst = Math.max(...group.map((r) => SEVERITY[r.decision]));
            const winner = group.find((r) => SEVERITY[r.decision] === worst);
            expect(result.rule_id).toBe(winner?.id);
            expect(result.decision).toBe(winner?.decision);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it("is deterministic: the same input gives the same decision, also from a fresh compile", () => {
    fc.assert(
      fc.property(rulesArb, defaultArb, inputArb, (rules, fallback, input) => {
        const text = policyText(rules, fallback);
        const a = compilePolicy(text);
        const b = compilePolicy(text);
        const first = a.evaluate(input);
        expect(a.evaluate(structuredClone(input))).toEqual(first);
        expect(b.evaluate(input)).toEqual(first);
        expect(b.version).toBe(a.version);
      }),
      { numRuns: 300 },
    );
  });

  it("fails closed when reading the arguments throws", () => {
    const throwing = {
      get n(): number {
        throw new Error("getter exploded");
      },
      get s(): string {
        throw new Error("getter exploded");
      },
    };
    const guard = {
      id: "guard",
      precedence: 99,
      decision: "allow",
      match: { tool: "**", args: "args.n exists" },
    };
    fc.assert(
      fc.property(rulesArb, defaultArb, inputArb, (rules, fallback, input) => {
        // A top-precedence rule that reads args is always evaluated first, so evaluation must throw inside.
        const guarded = compilePolicy(policyText(rules, fallback, [guard]));
        expect(guarded.evaluate({ ...input, args: throwing })).toMatchObject({
          decision: "deny",
          rule_id: "policy_error",
          stop_reason: "policy_error",
          reason: "policy evaluation failed: getter exploded",
        });
        // Without the guard: either the arguments were never read (the answer is the same as for
        // empty arguments) or reading them failed and the answer is a deny.
        const plain = compilePolicy(policyText(rules, fallback));
        const result = plain.evaluate({ ...input, args: throwing });
        if (result.rule_id === "policy_error") expect(result.decision).toBe("deny");
        else expect(result).toEqual(plain.evaluate({ ...input, args: {} }));
      }),
      { numRuns: 300 },
    );
  });
});
