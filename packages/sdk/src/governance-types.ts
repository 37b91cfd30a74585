import type { ApprovalTokenClaims, ApprovalTokenJwk } from "./approval-token.ts";
import type { RequestSource, RequestStatus } from "./types.ts";

/*
 * Governed tool calls as the API returns them (`POST /v1/govern`, `/v1/tokens/*`,
 * `/.well-known/jwks.json`): field names exactly as on the wire, timestamps as `Date`, fields a
 * newer server adds passed through untyped.
 */

export type GovernDecision = "allow" | "deny" | "approval_required";

/**
 * Why a governed call must not run (or not yet). A newer server may send reasons not listed here,
 * so treat any non-null value you do not recognise as "stop".
 */
export type StopReason =
  | "policy_denied"
  | "policy_error"
  | "budget_exceeded"
  | "killed"
  | "approval_required"
  | "approval_rejected"
  | "approval_timeout"
  | "approval_cancelled"
  | (string & {});

/** The run's budgets after this call: what the policy allows, what is used, what remains. */
export interface BudgetView {
  /** Each approved budget extension grants the run its budget once more; null means no limit. */
  limits: {
    max_steps: number | null;
    max_tool_calls: number | null;
    max_seconds: number | null;
    max_usd: number | null;
  };
  usage: { steps: number; tool_calls: number; seconds: number; usd: number };
  /** Only the limits the policy sets; never negative. */
  remaining: { steps?: number; tool_calls?: number; seconds?: number; usd?: number };
  /** The limits this call went over, e.g. `["max_tool_calls"]`. */
  exceeded: string[];
  extensions: number;
}

/** The answer to a governed call. */
export interface GovernResult {
  /** `gov_…` */
  id: string;
  decision: GovernDecision;
  reason: string;
  /** The deciding rule: a policy rule id, `default`, `policy_error`, `budget`, `kill_switch:…` or `grant:…`. */
  rule_id: string;
  /** `sha256:…` of the policy the decision was made under. */
  policy_version: string;
  risk: string | null;
  /** Set on every deny, and on `approval_required` (then `approval_rejected` etc. once decided). */
  stop_reason: StopReason | null;
  run_id: string;
  call_id: string | null;
  correlation_id: string;
  tool: string;
  /** `sha256:…` of the RFC 8785 form of the proposed arguments. */
  args_hash: string;
  /** The parked request of an `approval_required` call. */
  request_id: string | null;
  /** Where the parked request stands (refreshed when the same call is governed again). */
  request_status: RequestStatus | null;
  /** Once the parked request is approved: the single-use token bound to `approved_args`. */
  approval_token: string | null;
  /** The reviewer's comment once the parked request is decided. */
  review_comment: string | null;
  /** Once approved: the arguments to run with (a reviewer may have edited them). */
  approved_args: unknown;
  /** The standing grant that allowed the call, if one did. */
  grant_id: string | null;
  budgets: BudgetView | null;
  /** True when this (run_id, call_id) had been governed before and this is its answer. */
  replayed: boolean;
  created_at: Date;
}

/** A tool call to decide (`POST /v1/govern`). */
export interface GovernInput {
  /** The agent's run or session id; budgets and kill switches apply per run. */
  run_id: string;
  /**
   * The call's id, unique within the run. Makes the call idempotent: governing the same
   * (run_id, call_id) again returns the first answer (with its parked request's current status)
   * instead of deciding, counting and parking it a second time. Also makes `govern` safe to retry.
   */
  call_id?: string;
  tool: string;
  args?: unknown;
  /** Claimed only: recorded, never used for decisions (the API key says who the agent is). */
  agent_id?: string;
  /** Extra facts the policy's conditions can test as `context.…`. */
  context?: unknown;
  /** Added to the run's spend before its budget is checked. */
  cost_usd?: number;
  /** Steps this call counts for (default 1). */
  steps?: number;
  environment?: string;
  /** The case id; defaults to `run_id`. */
  correlation_id?: string;
  trace_id?: string;
  parent_trace_id?: string;
  /** What reviewers are asked if the call needs approval; defaults to a sentence naming the tool. */
  question?: string;
  callback_url?: string;
  metadata?: Record<string, unknown>;
  tool_calls?: unknown[];
  retrieved_context?: unknown;
  source?: RequestSource;
}

/** A tool call an approval token is presented for. */
export interface TokenCall {
  token: string;
  tool: string;
  /** The arguments about to run; absent arguments hash as `{}`. */
  args?: unknown;
}

/** `POST /v1/tokens/verify`: the token authorises the call (otherwise the call fails with 403). */
export interface TokenVerification {
  valid: true;
  claims: ApprovalTokenClaims;
  /** Whether the token has already been used; a used token can no longer be consumed. */
  consumed: boolean;
}

/** `POST /v1/tokens/consume`: the token is now used up, for this call. */
export interface TokenConsumption {
  consumed: true;
  claims: ApprovalTokenClaims;
  /** The hash of the arguments the token was consumed for (equal to `claims.args_hash`). */
  executed_args_hash: string;
}

/** The server's published verification keys (`GET /.well-known/jwks.json`). */
export interface Jwks {
  keys: ApprovalTokenJwk[];
}
