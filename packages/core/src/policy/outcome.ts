import { MAX_TTL_SECONDS } from "../request-create.ts";
import { PRIORITIES } from "../request-types.ts";
import { checkObject, describe, isPlainObject, readInteger, readString, readStringList } from "./checks.ts";
import { childPath, type ProblemSink } from "./problems.ts";
import {
  type ApprovalFields,
  type ApprovalRequirement,
  type OutcomeSpec,
  POLICY_DECISIONS,
  type PolicyDecision,
  type PolicyDecisionKind,
  type RiskTier,
} from "./types.ts";

/**
 * Outcomes (what a rule, the default or a budget overrun decides) and the approval requirements
 * behind `approval_required`. Field by field, an explicit value beats the risk tier's, which beats
 * the built-in default: any reviewer (`required_roles: []`), one approval, the server's default
 * expiry (`ttl_seconds: null`), `normal` priority.
 */

export const APPROVAL_KEYS = [
  "required_roles",
  "required_approvals",
  "ttl_seconds",
  "priority",
  "require_distinct_roles",
  "escalate_after_seconds",
] as const;
export const MAX_REQUIRED_APPROVALS = 100;
const MAX_NAME_LENGTH = 128;

export function readApprovalFields(
  obj: Record<string, unknown>,
  path: string,
  sink: ProblemSink,
): ApprovalFields {
  const out: ApprovalFields = {};
  const roles = readStringList(obj.required_roles, childPath(path, "required_roles"), sink, {
    maxLength: MAX_NAME_LENGTH,
  });
  if (roles) out.required_roles = roles;
  const approvals = readInteger(
    obj.required_approvals,
    childPath(path, "required_approvals"),
    sink,
    1,
    MAX_REQUIRED_APPROVALS,
  );
  if (approvals !== undefined) out.required_approvals = approvals;
  const ttl = readInteger(obj.ttl_seconds, childPath(path, "ttl_seconds"), sink, 1, MAX_TTL_SECONDS);
  if (ttl !== undefined) out.ttl_seconds = ttl;
  const priority = readString(obj.priority, childPath(path, "priority"), sink, { oneOf: PRIORITIES });
  if (priority !== undefined) out.priority = priority as ApprovalFields["priority"];
  const distinct = obj.require_distinct_roles;
  if (distinct !== undefined) {
    if (typeof distinct === "boolean") out.require_distinct_roles = distinct;
    else
      sink.add(
        childPath(path, "require_distinct_roles"),
        `expected true or false, got ${describe(distinct)}`,
      );
  }
  // null is meaningful here (never escalate), unlike an absent key (the priority's default).
  if (obj.escalate_after_seconds === null) out.escalate_after_seconds = null;
  else {
    const escalate = readInteger(
      obj.escalate_after_seconds,
      childPath(path, "escalate_after_seconds"),
      sink,
      1,
      MAX_TTL_SECONDS,
    );
    if (escalate !== undefined) out.escalate_after_seconds = escalate;
  }
  return out;
}

export function readRiskTiers(raw: unknown, path: string, sink: ProblemSink): Record<string, RiskTier> {
  const tiers: Record<string, RiskTier> = {};
  if (raw === undefined) return tiers;
  if (!isPlainObject(raw)) {
    sink.add(path, `expected a mapping of tier names to defaults, got ${describe(raw)}`);
    return tiers;
  }
  for (const [name, value] of Object.entries(raw)) {
    const tierPath = childPath(path, name);
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(name) || name.length > MAX_NAME_LENGTH) {
      sink.addAtKey(tierPath, "a risk tier name uses letters, digits, _ and -");
      continue;
    }
    const tier = checkObject(value, tierPath, sink, [...APPROVAL_KEYS, "description"]);
    if (!tier) continue;
    const description = readString(tier.description, childPath(tierPath, "description"), sink);
    tiers[name] = {
      ...(description !== undefined ? { description } : {}),
      ...readApprovalFields(tier, tierPath, sink),
    };
  }
  return tiers;
}

/**
 * Reads the decision, reason, risk and approval fields of a rule, the default or the budgets
 * block. Approval fields on an outcome that is not `approval_required` are refused: they would
 * silently do nothing, which is never what the author meant.
 */
export function readOutcome(
  obj: Record<string, unknown>,
  path: string,
  sink: ProblemSink,
  tiers: Record<string, RiskTier>,
  decisionKey = "decision",
  decisions: readonly PolicyDecisionKind[] = POLICY_DECISIONS,
): OutcomeSpec | undefined {
  const decision = readString(obj[decisionKey], childPath(path, decisionKey), sink, { oneOf: decisions }) as
    | PolicyDecisionKind
    | undefined;
  const reason = readString(obj.reason, childPath(path, "reason"), sink, { maxLength: 1000 });
  const risk = readString(obj.risk, childPath(path, "risk"), sink);
  if (risk !== undefined && !Object.hasOwn(tiers, risk)) {
    const known = Object.keys(tiers);
    sink.add(
      childPath(path, "risk"),
      `unknown risk tier "${risk}"${known.length ? ` (defined: ${known.join(", ")})` : " (no risk_tiers defined)"}`,
    );
  }
  const approval = readApprovalFields(obj, path, sink);
  if (decision !== undefined && decision !== "approval_required") {
    for (const key of APPROVAL_KEYS) {
      if (obj[key] !== undefined) {
        sink.addAtKey(childPath(path, key), `${key} applies only when the decision is approval_required`);
      }
    }
  }
  if (decision === undefined) return undefined;
  return {
    decision,
    ...(reason !== undefined ? { reason } : {}),
    ...(risk !== undefined ? { risk } : {}),
    ...approval,
  };
}

export function resolveApproval(spec: ApprovalFields & { risk?: string }, tiers: Record<string, RiskTier>) {
  const tier: RiskTier = (spec.risk !== undefined ? tiers[spec.risk] : undefined) ?? {};
  const escalate =
    spec.escalate_after_seconds !== undefined ? spec.escalate_after_seconds : tier.escalate_after_seconds;
  const requirement: ApprovalRequirement = {
    required_roles: Object.freeze([...(spec.required_roles ?? tier.required_roles ?? [])]),
    required_approvals: spec.required_approvals ?? tier.required_approvals ?? 1,
    ttl_seconds: spec.ttl_seconds ?? tier.ttl_seconds ?? null,
    priority: spec.priority ?? tier.priority ?? "normal",
    require_distinct_roles: spec.require_distinct_roles ?? tier.require_distinct_roles ?? false,
    ...(escalate !== undefined ? { escalate_after_seconds: escalate } : {}),
  };
  return Object.freeze(requirement);
}

/** The frozen decision an outcome produces; built once per rule at compile time. */
export function decisionFor(
  spec: OutcomeSpec,
  ruleId: string,
  fallbackReason: string,
  tiers: Record<string, RiskTier>,
): PolicyDecision {
  return Object.freeze({
    decision: spec.decision,
    reason: spec.reason ?? fallbackReason,
    rule_id: ruleId,
    risk: spec.risk ?? null,
    approval: spec.decision === "approval_required" ? resolveApproval(spec, tiers) : null,
    stop_reason: spec.decision === "deny" ? "policy_denied" : null,
  });
}
