import type { PolicyBudgets, RequestSource, RequestStatus } from "@countersign/core";

export type GovernDecision = "allow" | "deny" | "approval_required";

export type StopReason =
  | "policy_denied"
  | "policy_error"
  | "budget_exceeded"
  | "killed"
  | "approval_required"
  | "approval_rejected"
  | "approval_timeout"
  | "approval_cancelled";

/** A governed call as the agent sends it (validated at the boundary). */
export interface GovernInput {
  run_id: string;
  call_id?: string;
  tool: string;
  args?: unknown;
  /** Claimed only: recorded, never used for decisions (the key decides who the agent is). */
  agent_id?: string;
  context?: unknown;
  cost_usd?: number;
  steps?: number;
  environment?: string;
  correlation_id?: string;
  trace_id?: string;
  parent_trace_id?: string;
  question?: string;
  callback_url?: string;
  metadata?: Record<string, unknown>;
  tool_calls?: unknown[];
  retrieved_context?: unknown;
  source?: RequestSource;
}

export interface BudgetView {
  limits: {
    max_steps: number | null;
    max_tool_calls: number | null;
    max_seconds: number | null;
    max_usd: number | null;
  };
  usage: { steps: number; tool_calls: number; seconds: number; usd: number };
  remaining: { steps?: number; tool_calls?: number; seconds?: number; usd?: number };
  exceeded: string[];
  extensions: number;
}

export interface GovernResult {
  id: string;
  decision: GovernDecision;
  reason: string;
  rule_id: string;
  policy_version: string;
  risk: string | null;
  stop_reason: StopReason | null;
  run_id: string;
  call_id: string | null;
  correlation_id: string;
  tool: string;
  args_hash: string;
  request_id: string | null;
  /** On replays: where the parked request stands now. */
  request_status: RequestStatus | null;
  approval_token: string | null;
  /** The reviewer's comment once a parked request is decided. */
  review_comment: string | null;
  /** Arguments to run with when a reviewer edited them before approving. */
  approved_args: unknown;
  grant_id: string | null;
  budgets: BudgetView | null;
  replayed: boolean;
  created_at: string;
}

export function budgetLimits(budgets: PolicyBudgets | null, extensions: number): BudgetView["limits"] | null {
  if (!budgets) return null;
  // Each approved extension grants the run its budget once more.
  const times = 1 + extensions;
  const scale = (v: number | null) => (v === null ? null : v * times);
  return {
    max_steps: scale(budgets.max_steps),
    max_tool_calls: scale(budgets.max_tool_calls),
    max_seconds: scale(budgets.max_seconds),
    max_usd: scale(budgets.max_usd),
  };
}
