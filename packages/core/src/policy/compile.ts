import { CanonicalizationError, canonicalize } from "../canonical-json.ts";
import { sha256Hex } from "../hash.ts";
import { readBudgets } from "./budgets.ts";
import { checkObject, isPlainObject, readInteger, readString, readStringList } from "./checks.ts";
import { checkCondition } from "./condition.ts";
import { createEvaluator, type EvaluationRule, SEVERITY } from "./evaluate.ts";
import { compileGlob, globProblem } from "./glob.ts";
import { APPROVAL_KEYS, decisionFor, readOutcome, readRiskTiers } from "./outcome.ts";
import { childPath, PolicyError, ProblemSink } from "./problems.ts";
import type {
  CompiledPolicy,
  OutcomeSpec,
  PolicyDocument,
  PolicyRuleInfo,
  RiskTier,
  RuleMatch,
  RuleSpec,
} from "./types.ts";
import { parseYamlSource } from "./yaml-source.ts";

/**
 * Compiles policy YAML once per version: checks it whole (every problem reported with its line and
 * column), normalises it, hashes it, and builds the closures `evaluate` runs. Evaluation itself
 * never parses anything.
 */

const TOP_KEYS = ["version", "default", "risk_tiers", "budgets", "rules"] as const;
const RULE_KEYS = [
  "id",
  "description",
  "precedence",
  "match",
  "decision",
  "risk",
  "reason",
  ...APPROVAL_KEYS,
];
const DEFAULT_KEYS = ["decision", "reason", "risk", ...APPROVAL_KEYS];
const MATCH_KEYS = ["tool", "agent", "environment", "args"] as const;

export const MAX_RULES = 10_000;
/** Parsing is the slow part of a policy's life; bound it before it starts. */
export const MAX_POLICY_LENGTH = 1_000_000;
const MAX_PRECEDENCE = 1_000_000;
/** Rule ids the engine reports itself; a rule may not take them. */
const RESERVED_RULE_IDS = new Set(["default", "policy_error"]);
const RULE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

const DEFAULT_OUTCOME: OutcomeSpec = { decision: "deny", reason: "no rule matched" };

export function compilePolicy(text: string): CompiledPolicy {
  if (text.length > MAX_POLICY_LENGTH) {
    const message = `a policy is at most ${MAX_POLICY_LENGTH} characters`;
    throw new PolicyError([{ path: "$", message, line: 1, column: 1 }]);
  }
  const parsed = parseYamlSource(text);
  if ("problems" in parsed) throw new PolicyError(parsed.problems.problems);
  const { value, locate } = parsed.source;
  const sink = new ProblemSink(locate);

  const top = checkObject(value, "$", sink, TOP_KEYS, ["version"]);
  if (!top) throw new PolicyError(sink.problems);
  if (top.version !== undefined && top.version !== 1) {
    sink.add("$.version", "version must be 1 (the only policy language version so far)");
  }
  const tiers = readRiskTiers(top.risk_tiers, "$.risk_tiers", sink);
  const defaultOutcome = readDefault(top.default, sink, tiers);
  const budgets = readBudgets(top.budgets, "$.budgets", sink, tiers);
  const rules = readRules(top.rules, sink, tiers, locate);

  if (sink.count > 0 || !defaultOutcome) throw new PolicyError(sink.problems);
  const document: PolicyDocument = {
    version: 1,
    default: defaultOutcome,
    risk_tiers: tiers,
    budgets: budgets?.spec ?? null,
    rules: rules.map((r) => r.spec),
  };
  let version: string;
  try {
    version = `sha256:${sha256Hex(canonicalize(document))}`;
  } catch (err) {
    if (!(err instanceof CanonicalizationError)) throw err;
    for (const p of err.errors ?? []) sink.add(p.path, p.message);
    throw new PolicyError(sink.problems);
  }

  const evaluate = createEvaluator(
    rules.map((r) => r.rule),
    decisionFor(defaultOutcome, "default", "no rule matched", tiers),
  );
  return Object.freeze({
    version,
    source: text,
    document,
    budgets: budgets?.budgets ?? null,
    rules: Object.freeze(rules.map((r) => r.info)),
    evaluate,
  });
}

function readDefault(raw: unknown, sink: ProblemSink, tiers: Record<string, RiskTier>) {
  if (raw === undefined) return DEFAULT_OUTCOME;
  // `default: deny` is shorthand for `default: { decision: deny }`.
  const obj =
    typeof raw === "string"
      ? { decision: raw }
      : checkObject(raw, "$.default", sink, DEFAULT_KEYS, ["decision"]);
  if (!obj) return undefined;
  const spec = readOutcome(obj, "$.default", sink, tiers);
  return spec && { reason: DEFAULT_OUTCOME.reason, ...spec };
}

interface ReadRule {
  spec: RuleSpec;
  rule: EvaluationRule;
  info: PolicyRuleInfo;
}

function readRules(
  raw: unknown,
  sink: ProblemSink,
  tiers: Record<string, RiskTier>,
  locate: (path: string, at: "key" | "value") => { line: number } | null,
): ReadRule[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    sink.add("$.rules", "rules must be a list");
    return [];
  }
  if (raw.length > MAX_RULES) sink.add("$.rules", `a policy has at most ${MAX_RULES} rules`);
  const seen = new Map<string, string>();
  const out: ReadRule[] = [];
  raw.forEach((item, index) => {
    const path = childPath("$.rules", index);
    // Duplicates are found even among rules that are broken in other ways.
    const id = isPlainObject(item) && typeof item.id === "string" ? item.id : undefined;
    const first = id === undefined ? undefined : seen.get(id);
    if (id !== undefined && first !== undefined) {
      const line = locate(first, "value")?.line;
      sink.add(
        childPath(path, "id"),
        `duplicate rule id "${id}"${line ? ` (first used at line ${line})` : ""}`,
      );
    } else if (id !== undefined) seen.set(id, path);
    const rule = readRule(item, path, sink, tiers);
    if (!rule) return;
    out.push({
      ...rule,
      info: Object.freeze({
        id: rule.spec.id,
        description: rule.spec.description ?? null,
        precedence: rule.spec.precedence,
        decision: rule.spec.decision,
        risk: rule.spec.risk ?? null,
        line: locate(path, "value")?.line ?? null,
      }),
    });
  });
  return out;
}

function readRule(raw: unknown, path: string, sink: ProblemSink, tiers: Record<string, RiskTier>) {
  const obj = checkObject(raw, path, sink, RULE_KEYS, ["id", "match", "decision"]);
  if (!obj) return undefined;
  const before = sink.count;
  const id = readString(obj.id, childPath(path, "id"), sink, {
    maxLength: 128,
    pattern: RULE_ID,
    patternHint: "a rule id starts with a letter or digit and uses letters, digits, . _ : -",
  });
  if (id !== undefined && RESERVED_RULE_IDS.has(id)) {
    sink.add(childPath(path, "id"), `"${id}" is reserved for the engine's own decisions`);
  }
  const description = readString(obj.description, childPath(path, "description"), sink, { maxLength: 2000 });
  const precedence =
    readInteger(obj.precedence, childPath(path, "precedence"), sink, -MAX_PRECEDENCE, MAX_PRECEDENCE) ?? 0;
  const outcome = readOutcome(obj, path, sink, tiers);
  const match = readMatch(obj.match, childPath(path, "match"), sink);
  if (sink.count > before || id === undefined || !outcome || !match) return undefined;

  const spec: RuleSpec = {
    id,
    ...(description !== undefined ? { description } : {}),
    precedence,
    match: match.spec,
    ...outcome,
  };
  const rule: EvaluationRule = {
    precedence,
    severity: SEVERITY[outcome.decision],
    tools: match.spec.tool.map(compileGlob),
    agents: match.spec.agent?.map(compileGlob) ?? null,
    environments: match.spec.environment ? new Set(match.spec.environment) : null,
    condition: match.test,
    result: decisionFor(outcome, id, description ?? `matched rule "${id}"`, tiers),
  };
  return { spec, rule };
}

function readMatch(raw: unknown, path: string, sink: ProblemSink) {
  const obj = checkObject(raw, path, sink, MATCH_KEYS, ["tool"]);
  if (!obj) return undefined;
  const before = sink.count;
  const globs = (key: "tool" | "agent") => {
    const list = readStringList(obj[key], childPath(path, key), sink);
    list?.forEach((pattern, i) => {
      const problem = globProblem(pattern);
      if (problem)
        sink.add(
          typeof obj[key] === "string" ? childPath(path, key) : childPath(childPath(path, key), i),
          problem,
        );
    });
    return list;
  };
  const tool = globs("tool");
  const agent = globs("agent");
  const environment = readStringList(obj.environment, childPath(path, "environment"), sink, {
    maxLength: 128,
  });
  const condition =
    obj.args === undefined ? undefined : checkCondition(obj.args, childPath(path, "args"), sink);
  if (sink.count > before || !tool) return undefined;
  const spec: RuleMatch = {
    tool,
    ...(agent ? { agent } : {}),
    ...(environment ? { environment } : {}),
    ...(condition ? { args: condition.condition } : {}),
  };
  return { spec, test: condition?.test ?? null };
}
