import { compileGlob } from "./glob.ts";
import { globCovers, globsOverlap, type WorkBudget } from "./glob-relations.ts";
import { resolveApproval } from "./outcome.ts";
import type { ApprovalRequirement, PolicyDecisionKind, PolicyDocument, RuleSpec } from "./types.ts";

/**
 * What a standing grant could stand in for: the outcomes the policy could reach for a call the
 * grant covers. The analysis over-approximates, so it never misses an outcome:
 *
 * - a rule counts when one of its tool globs overlaps the grant's tool pattern (some tool name
 *   matches both) and, when the agent is known, the rule's agent globs (if any) match that agent's
 *   name. Environment and argument conditions, the grant's own conditions and precedence are
 *   ignored: any of those rules could decide some covered call;
 * - the default outcome counts unless one rule without environment or argument conditions (and
 *   whose agent globs, if any, match the agent) has a tool glob that covers the whole pattern, in
 *   which case every covered call matches at least that rule.
 *
 * The glob comparisons share one work budget, so a long pattern against a large policy costs
 * bounded time; past it, every remaining rule counts as overlapping and none as covering.
 */

/** Transitions the glob comparisons of one analysis may explore in all. */
export const GRANT_SCOPE_WORK = 4_000_000;

export interface ScopeOutcome {
  /** The rule's id, or `"default"`. */
  readonly rule_id: string;
  readonly decision: PolicyDecisionKind;
  readonly approval: ApprovalRequirement | null;
}

export interface GrantScope {
  /** The grant's tool glob. */
  tool: string;
  /** The name of the agent key the grant covers (what rules' `agent` globs see); null for any agent. */
  agent_name: string | null;
}

export function outcomesInScope(document: PolicyDocument, scope: GrantScope): ScopeOutcome[] {
  const out: ScopeOutcome[] = [];
  const budget: WorkBudget = { remaining: GRANT_SCOPE_WORK };
  let defaultReachable = true;
  for (const rule of document.rules) {
    if (!agentMayMatch(rule, scope.agent_name)) continue;
    if (!rule.match.tool.some((glob) => globsOverlap(glob, scope.tool, budget))) continue;
    out.push(outcomeOf(rule.id, rule, document));
    const unconditional =
      rule.match.environment === undefined &&
      rule.match.args === undefined &&
      (rule.match.agent === undefined || scope.agent_name !== null);
    if (unconditional && rule.match.tool.some((glob) => globCovers(glob, scope.tool, budget))) {
      defaultReachable = false;
    }
  }
  if (defaultReachable) out.push(outcomeOf("default", document.default, document));
  return out;
}

function agentMayMatch(rule: RuleSpec, agentName: string | null): boolean {
  if (rule.match.agent === undefined || agentName === null) return true;
  return rule.match.agent.some((glob) => compileGlob(glob).test(agentName));
}

function outcomeOf(ruleId: string, spec: PolicyDocument["default"], document: PolicyDocument): ScopeOutcome {
  return {
    rule_id: ruleId,
    decision: spec.decision,
    approval: spec.decision === "approval_required" ? resolveApproval(spec, document.risk_tiers) : null,
  };
}

/**
 * Why a reviewer holding `roles` may not give a grant with these outcomes in scope, or null when
 * they may: a grant stands in for approvals, so a reviewer may grant only what they could approve
 * alone. Explicit deny rules and allow rules are fine (a grant never overrides a deny rule, and
 * allowed calls need no grant); a default `deny` is not (only an admin may open up what the policy
 * does not mention); an `approval_required` outcome must need a single approval and only roles the
 * reviewer holds.
 */
export function reviewerGrantProblem(
  outcomes: readonly ScopeOutcome[],
  roles: readonly string[],
): string | null {
  const held = new Set(roles);
  for (const outcome of outcomes) {
    const where =
      outcome.rule_id === "default" ? "the policy's default outcome" : `rule "${outcome.rule_id}"`;
    if (outcome.decision === "deny" && outcome.rule_id === "default") {
      return `${where} denies calls this grant could cover; only an admin may grant them`;
    }
    if (outcome.decision !== "approval_required" || outcome.approval === null) continue;
    const { required_approvals, required_roles } = outcome.approval;
    if (required_approvals > 1) {
      return `${where} needs ${required_approvals} approvals for calls this grant could cover; only an admin may grant them`;
    }
    const missing = required_roles.filter((role) => !held.has(role));
    if (missing.length > 0) {
      return `${where} needs roles you do not hold (${missing.join(", ")}) for calls this grant could cover`;
    }
  }
  return null;
}
