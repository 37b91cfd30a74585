import type { ConditionTest } from "./condition.ts";
import { type Glob, MAX_GLOB_SUBJECT_LENGTH } from "./glob.ts";
import { errorMessage } from "./problems.ts";
import type { PolicyDecision, PolicyDecisionKind, PolicyInput } from "./types.ts";

/**
 * The decision procedure. Precedence: among the rules that match, only the highest `precedence`
 * group counts; within it the most restrictive decision wins (deny > approval_required > allow),
 * and among rules with that decision the first in file order is the one reported. No match: the
 * policy's default, reported as rule `default`.
 *
 * Rules are pre-sorted into that order (precedence descending, then file order), so the scan can
 * stop at the end of the first group that matched, stop at once on a deny, and skip evaluating any
 * rule that could not beat the best decision found so far. Candidate rules for a tool name are
 * found through an index (exact names in a map, wildcard rules tested once) and memoised per name.
 */

export const SEVERITY: Readonly<Record<PolicyDecisionKind, number>> = {
  allow: 0,
  approval_required: 1,
  deny: 2,
};
const DENY = SEVERITY.deny;

/** Bounds the per-tool memo; agents may send any names, so the memo must not grow without limit. */
const CANDIDATE_CACHE_SIZE = 4096;

export interface EvaluationRule {
  readonly precedence: number;
  readonly severity: number;
  readonly tools: readonly Glob[];
  readonly agents: readonly Glob[] | null;
  readonly environments: ReadonlySet<string> | null;
  readonly condition: ConditionTest | null;
  /** Frozen, shared by every evaluation this rule decides. */
  readonly result: PolicyDecision;
}

export function createEvaluator(
  rules: readonly EvaluationRule[],
  defaultResult: PolicyDecision,
): (input: PolicyInput) => PolicyDecision {
  const ordered = rules
    .map((rule, fileIndex) => ({ rule, fileIndex }))
    .sort((a, b) => b.rule.precedence - a.rule.precedence || a.fileIndex - b.fileIndex)
    .map((x) => x.rule);
  const rank = new Map(ordered.map((rule, i) => [rule, i]));

  const byExactTool = new Map<string, EvaluationRule[]>();
  const withWildcards: EvaluationRule[] = [];
  for (const rule of ordered) {
    for (const glob of rule.tools) {
      if (glob.exact === null) continue;
      const list = byExactTool.get(glob.exact);
      if (list) list.push(rule);
      else byExactTool.set(glob.exact, [rule]);
    }
    if (rule.tools.some((g) => g.exact === null)) withWildcards.push(rule);
  }

  const candidates = new Map<string, readonly EvaluationRule[]>();
  const candidatesFor = (tool: string): readonly EvaluationRule[] => {
    const cached = candidates.get(tool);
    if (cached) return cached;
    const found = new Set(byExactTool.get(tool));
    for (const rule of withWildcards) {
      if (!found.has(rule) && rule.tools.some((g) => g.exact === null && g.test(tool))) found.add(rule);
    }
    const list = [...found].sort((a, b) => (rank.get(a) ?? 0) - (rank.get(b) ?? 0));
    if (candidates.size >= CANDIDATE_CACHE_SIZE) candidates.clear();
    candidates.set(tool, list);
    return list;
  };

  const decide = (input: PolicyInput): PolicyDecision => {
    const tool = input.tool;
    const agent = input.agent_id;
    const environment = input.environment;
    checkName("tool", tool, false);
    checkName("agent_id", agent, true);
    checkName("environment", environment, true);

    const list = candidatesFor(tool);
    let best: EvaluationRule | null = null;
    for (let i = 0; i < list.length; i++) {
      const rule = list[i] as EvaluationRule;
      if (best !== null) {
        if (rule.precedence !== best.precedence) break;
        if (rule.severity <= best.severity) continue;
      }
      if (rule.environments !== null && (environment === null || !rule.environments.has(environment)))
        continue;
      if (rule.agents !== null && (agent === null || !anyGlob(rule.agents, agent))) continue;
      if (rule.condition !== null && !rule.condition(input)) continue;
      best = rule;
      if (rule.severity === DENY) break;
    }
    return best === null ? defaultResult : best.result;
  };

  // Fail closed: whatever goes wrong (a throwing getter in args, a malformed input) is a deny.
  return (input) => {
    try {
      return decide(input);
    } catch (err) {
      return policyErrorDecision(errorMessage(err));
    }
  };
}

function anyGlob(globs: readonly Glob[], name: string): boolean {
  for (let i = 0; i < globs.length; i++) if ((globs[i] as Glob).test(name)) return true;
  return false;
}

function checkName(field: string, value: unknown, nullable: boolean): void {
  if (typeof value === "string") {
    if (value.length > MAX_GLOB_SUBJECT_LENGTH) {
      throw new RangeError(`${field} is longer than ${MAX_GLOB_SUBJECT_LENGTH} characters`);
    }
    return;
  }
  if (nullable && value === null) return;
  throw new TypeError(`${field} must be a string${nullable ? " or null" : ""}`);
}

export function policyErrorDecision(message: string): PolicyDecision {
  return {
    decision: "deny",
    reason: `policy evaluation failed: ${message}`,
    rule_id: "policy_error",
    risk: null,
    approval: null,
    stop_reason: "policy_error",
  };
}
