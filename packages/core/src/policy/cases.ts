import { PRIORITIES } from "../request-types.ts";
import { checkObject, isPlainObject, readInteger, readString, readStringList } from "./checks.ts";
import { APPROVAL_KEYS } from "./outcome.ts";
import { childPath, PolicyError, ProblemSink } from "./problems.ts";
import { type CompiledPolicy, POLICY_DECISIONS, type PolicyDecision, type PolicyInput } from "./types.ts";
import { parseYamlSource } from "./yaml-source.ts";

/**
 * Policy fixtures: a YAML file of example calls and the decisions the policy must give them, so a
 * policy change can be tested before it is deployed.
 *
 *     cases:
 *       - name: small refunds go through
 *         input: { tool: payments.refund, args: { amount: 20 }, agent_id: billing-bot }
 *         expect: { decision: allow }
 *
 * `expect` checks only the fields it names: decision (required), rule_id, reason, risk,
 * stop_reason, required_roles (order does not matter), required_approvals, ttl_seconds, priority,
 * require_distinct_roles, escalate_after_seconds (a number, null for never, or "default" for the
 * server's default by priority).
 */

export interface PolicyCaseMismatch {
  field: string;
  expected: unknown;
  actual: unknown;
}

export interface PolicyCaseResult {
  name: string;
  /** Where the case starts in the cases file. */
  line: number | null;
  passed: boolean;
  actual: PolicyDecision;
  mismatches: PolicyCaseMismatch[];
  /** One line per mismatch, `field: expected X, got Y`; empty when the case passed. */
  diff: string;
}

export interface PolicyCasesReport {
  results: PolicyCaseResult[];
  passed: number;
  failed: number;
  total: number;
}

const INPUT_KEYS = ["tool", "args", "agent_id", "environment", "context"] as const;
// A fixture may expect every approval field an outcome can set.
const EXPECT_KEYS = ["decision", "rule_id", "reason", "risk", "stop_reason", ...APPROVAL_KEYS] as const;

interface PolicyCase {
  name: string;
  line: number | null;
  input: PolicyInput;
  expect: Record<string, unknown>;
}

/** Runs every case; a malformed cases file throws a PolicyError with line numbers. */
export function runPolicyCases(policy: CompiledPolicy, casesText: string): PolicyCasesReport {
  const cases = readCases(casesText);
  const results = cases.map((c) => runCase(policy, c));
  const passed = results.filter((r) => r.passed).length;
  return { results, passed, failed: results.length - passed, total: results.length };
}

function runCase(policy: CompiledPolicy, c: PolicyCase): PolicyCaseResult {
  const actual = policy.evaluate(c.input);
  const observed: Record<string, unknown> = {
    decision: actual.decision,
    rule_id: actual.rule_id,
    reason: actual.reason,
    risk: actual.risk,
    stop_reason: actual.stop_reason,
    required_roles: actual.approval ? [...actual.approval.required_roles].sort() : null,
    required_approvals: actual.approval?.required_approvals ?? null,
    ttl_seconds: actual.approval?.ttl_seconds ?? null,
    priority: actual.approval?.priority ?? null,
    require_distinct_roles: actual.approval?.require_distinct_roles ?? null,
    // Absent means the server's default for the priority: reported as "default".
    escalate_after_seconds: actual.approval
      ? actual.approval.escalate_after_seconds === undefined
        ? "default"
        : actual.approval.escalate_after_seconds
      : null,
  };
  const mismatches: PolicyCaseMismatch[] = [];
  for (const field of EXPECT_KEYS) {
    if (!(field in c.expect)) continue;
    let expected = c.expect[field];
    if (field === "required_roles") {
      expected =
        typeof expected === "string" ? [expected] : Array.isArray(expected) ? [...expected].sort() : expected;
    }
    if (JSON.stringify(expected) !== JSON.stringify(observed[field])) {
      mismatches.push({ field, expected, actual: observed[field] });
    }
  }
  const diff = mismatches
    .map((m) => `${m.field}: expected ${JSON.stringify(m.expected)}, got ${JSON.stringify(m.actual)}`)
    .join("\n");
  return { name: c.name, line: c.line, passed: mismatches.length === 0, actual, mismatches, diff };
}

function readCases(text: string): PolicyCase[] {
  const parsed = parseYamlSource(text);
  if ("problems" in parsed) throw new PolicyError(parsed.problems.problems, "policy cases");
  const { value, locate } = parsed.source;
  const sink = new ProblemSink(locate);
  const top = checkObject(value, "$", sink, ["cases"], ["cases"]);
  const raw = top?.cases;
  const cases: PolicyCase[] = [];
  if (top && (!Array.isArray(raw) || raw.length === 0)) sink.add("$.cases", "cases must be a non-empty list");
  const names = new Set<string>();
  if (Array.isArray(raw)) {
    raw.forEach((item, i) => {
      const path = childPath("$.cases", i);
      // Duplicates are found even among cases that are broken in other ways.
      const name = isPlainObject(item) && typeof item.name === "string" ? item.name : undefined;
      if (name !== undefined && names.has(name)) {
        sink.add(childPath(path, "name"), `duplicate case name ${JSON.stringify(name)}`);
      }
      if (name !== undefined) names.add(name);
      const c = readCase(item, path, sink);
      if (!c) return;
      cases.push({ ...c, line: locate(path, "value")?.line ?? null });
    });
  }
  if (sink.count > 0) throw new PolicyError(sink.problems, "policy cases");
  return cases;
}

function readCase(raw: unknown, path: string, sink: ProblemSink): Omit<PolicyCase, "line"> | undefined {
  const obj = checkObject(raw, path, sink, ["name", "input", "expect"], ["name", "input", "expect"]);
  if (!obj) return undefined;
  const before = sink.count;
  const name = readString(obj.name, childPath(path, "name"), sink);
  const inputPath = childPath(path, "input");
  const input = checkObject(obj.input, inputPath, sink, INPUT_KEYS, ["tool"]);
  let tool: string | undefined;
  if (input) {
    tool = readString(input.tool, childPath(inputPath, "tool"), sink);
    for (const key of ["agent_id", "environment"] as const) {
      if (input[key] != null) readString(input[key], childPath(inputPath, key), sink);
    }
  }
  const expectPath = childPath(path, "expect");
  const expect = checkObject(obj.expect, expectPath, sink, EXPECT_KEYS, ["decision"]);
  if (expect) checkExpect(expect, expectPath, sink);
  if (sink.count > before || !name || !input || !tool || !expect) return undefined;
  return {
    name,
    input: {
      tool,
      args: input.args ?? {},
      agent_id: (input.agent_id as string | null | undefined) ?? null,
      environment: (input.environment as string | null | undefined) ?? null,
      ...(input.context !== undefined ? { context: input.context } : {}),
    },
    expect,
  };
}

function checkExpect(expect: Record<string, unknown>, path: string, sink: ProblemSink): void {
  const at = (key: string) => childPath(path, key);
  readString(expect.decision, at("decision"), sink, { oneOf: POLICY_DECISIONS });
  readString(expect.rule_id, at("rule_id"), sink);
  readString(expect.reason, at("reason"), sink);
  // Fields the engine reports as null may be expected as null.
  if (expect.risk !== null) readString(expect.risk, at("risk"), sink);
  if (expect.stop_reason !== null) {
    readString(expect.stop_reason, at("stop_reason"), sink, { oneOf: ["policy_denied", "policy_error"] });
  }
  if (expect.ttl_seconds !== null)
    readInteger(expect.ttl_seconds, at("ttl_seconds"), sink, 1, Number.MAX_SAFE_INTEGER);
  readInteger(expect.required_approvals, at("required_approvals"), sink, 1, Number.MAX_SAFE_INTEGER);
  readString(expect.priority, at("priority"), sink, { oneOf: PRIORITIES });
  const distinct = expect.require_distinct_roles;
  if (distinct !== undefined && typeof distinct !== "boolean") {
    sink.add(at("require_distinct_roles"), "expected true or false");
  }
  const escalate = expect.escalate_after_seconds;
  if (escalate !== undefined && escalate !== null && escalate !== "default") {
    readInteger(escalate, at("escalate_after_seconds"), sink, 1, Number.MAX_SAFE_INTEGER);
  }
  if (Array.isArray(expect.required_roles) && expect.required_roles.length === 0) return;
  readStringList(expect.required_roles, at("required_roles"), sink);
}
