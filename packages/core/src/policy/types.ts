import type { Priority } from "../request-types.ts";

/**
 * The policy language's public shapes: what a governed call looks like to the engine, what the
 * engine answers, and the normalised document a policy file compiles to.
 */

export const POLICY_DECISIONS = ["allow", "approval_required", "deny"] as const;
export type PolicyDecisionKind = (typeof POLICY_DECISIONS)[number];

/** One governed tool call as the policy sees it. */
export interface PolicyInput {
  tool: string;
  args: unknown;
  /** Agent identity (verified or claimed: the server decides which it passes); null when unknown. */
  agent_id: string | null;
  environment: string | null;
  context?: unknown;
}

/** What a human approval must satisfy when the decision is `approval_required`. */
export interface ApprovalRequirement {
  /** Reviewers must hold one of these roles; empty means any reviewer may decide. */
  readonly required_roles: readonly string[];
  readonly required_approvals: number;
  /** Null leaves the expiry to the server's default. */
  readonly ttl_seconds: number | null;
  readonly priority: Priority;
  /** With several required roles, each approval must come from a different one of them. */
  readonly require_distinct_roles: boolean;
  /**
   * Seconds pending before the request escalates to the next tier; null never escalates; absent
   * leaves it to the server's default for the priority.
   */
  readonly escalate_after_seconds?: number | null;
}

export type PolicyStopReason = "policy_denied" | "policy_error";

/**
 * The engine's answer. Results of matched rules are shared, frozen objects (evaluation allocates
 * nothing on the allow path); copy before changing anything.
 */
export interface PolicyDecision {
  readonly decision: PolicyDecisionKind;
  readonly reason: string;
  /** The deciding rule's id, `"default"` when no rule matched, `"policy_error"` when evaluation failed. */
  readonly rule_id: string;
  readonly risk: string | null;
  readonly approval: ApprovalRequirement | null;
  readonly stop_reason: PolicyStopReason | null;
}

export const COMPARISON_OPS = [
  "==",
  "!=",
  ">",
  ">=",
  "<",
  "<=",
  "in",
  "not_in",
  "matches",
  "exists",
  "not_exists",
  "contains",
  "starts_with",
  "ends_with",
] as const;
export type ComparisonOp = (typeof COMPARISON_OPS)[number];

export type ScalarValue = string | number | boolean | null;

/** A condition in its structured (normalised) form; the string shorthand parses into this. */
export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | { field: string; op: ComparisonOp; value?: ScalarValue | ScalarValue[] };

/** Approval fields shared by risk tiers, rules, the default outcome and the budgets block. */
export interface ApprovalFields {
  required_roles?: string[];
  required_approvals?: number;
  ttl_seconds?: number;
  priority?: Priority;
  require_distinct_roles?: boolean;
  /** Null: never escalate. */
  escalate_after_seconds?: number | null;
}

export interface RiskTier extends ApprovalFields {
  description?: string;
}

export interface OutcomeSpec extends ApprovalFields {
  decision: PolicyDecisionKind;
  reason?: string;
  risk?: string;
}

export interface RuleMatch {
  tool: string[];
  agent?: string[];
  environment?: string[];
  args?: Condition;
}

export interface RuleSpec extends OutcomeSpec {
  id: string;
  description?: string;
  precedence: number;
  match: RuleMatch;
}

export const BUDGET_LIMITS = ["max_steps", "max_tool_calls", "max_seconds", "max_usd"] as const;
export type BudgetLimit = (typeof BUDGET_LIMITS)[number];

export interface BudgetsSpec extends ApprovalFields {
  max_steps?: number;
  max_tool_calls?: number;
  max_seconds?: number;
  max_usd?: number;
  on_exceed: "deny" | "approval_required";
  risk?: string;
}

/** The normalised policy document; its canonical JSON is what the version hash covers. */
export interface PolicyDocument {
  version: 1;
  default: OutcomeSpec;
  risk_tiers: Record<string, RiskTier>;
  budgets: BudgetsSpec | null;
  rules: RuleSpec[];
}

/** Budgets as the server enforces them, with the approval a human extension would need. */
export interface PolicyBudgets {
  readonly max_steps: number | null;
  readonly max_tool_calls: number | null;
  readonly max_seconds: number | null;
  readonly max_usd: number | null;
  readonly on_exceed: "deny" | "approval_required";
  readonly risk: string | null;
  /** Set when `on_exceed` is `approval_required`. */
  readonly approval: ApprovalRequirement | null;
}

/** A rule as compiled, for listing and display; `line` is where the rule starts in the source. */
export interface PolicyRuleInfo {
  readonly id: string;
  readonly description: string | null;
  readonly precedence: number;
  readonly decision: PolicyDecisionKind;
  readonly risk: string | null;
  readonly line: number | null;
}

export interface CompiledPolicy {
  /** `sha256:` + hex SHA-256 of the RFC 8785 form of `document`. */
  readonly version: string;
  readonly source: string;
  readonly document: PolicyDocument;
  readonly budgets: PolicyBudgets | null;
  readonly rules: readonly PolicyRuleInfo[];
  /** Never throws: an internal failure is a `deny` with `stop_reason: "policy_error"`. */
  evaluate(input: PolicyInput): PolicyDecision;
}
