import type { BudgetView, GovernResult, StopReason } from "./governance-types.ts";
import type { ApprovalRequest } from "./types.ts";

/*
 * How a governed call or a wait for approval can end other than with a go-ahead. These are
 * outcomes, not transport failures, so they are not `CountersignError`s: the call to the server
 * worked. Each carries what it ended on (the request as last seen, or the governed call's answer),
 * and a `stopReason` as the server reports it for governed calls.
 *
 * A timeout is never reported as a rejection: nobody said no, and a request that is still pending
 * (`reason: "wait_timeout"`) can still be approved later.
 */

/** A reviewer rejected the request. */
export class ApprovalRejectedError extends Error {
  readonly code = "approval_rejected";
  readonly stopReason = "approval_rejected";
  readonly retryable = false;
  readonly request: ApprovalRequest;
  /** The rejecting reviewer's comment, if they left one. */
  readonly comment: string | null;

  constructor(request: ApprovalRequest) {
    const comment = request.response?.comment ?? null;
    super(`request ${request.id} was rejected${comment ? `: ${comment}` : ""}`);
    this.name = "ApprovalRejectedError";
    this.request = request;
    this.comment = comment;
  }
}

/**
 * No decision in time. `reason` tells the two cases apart:
 * - `request_expired`: the request passed its `ttl_seconds` and is now `timed_out` for good;
 * - `wait_timeout`: this client stopped waiting; the request is still `pending` and may yet be decided
 *   (wait again with the same id to resume).
 */
export class ApprovalTimeoutError extends Error {
  readonly code = "approval_timeout";
  /**
   * As a governed call would report it: `approval_timeout` once the request expired, still
   * `approval_required` while it is pending.
   */
  readonly stopReason: "approval_timeout" | "approval_required";
  readonly reason: "request_expired" | "wait_timeout";
  /** True only for `wait_timeout`: waiting again may still get a decision. */
  readonly retryable: boolean;
  readonly request: ApprovalRequest;

  constructor(request: ApprovalRequest, reason: "request_expired" | "wait_timeout") {
    super(
      reason === "request_expired"
        ? `request ${request.id} timed out without a decision`
        : `stopped waiting for request ${request.id}; it is still ${request.status}`,
    );
    this.name = "ApprovalTimeoutError";
    this.reason = reason;
    this.stopReason = reason === "request_expired" ? "approval_timeout" : "approval_required";
    this.retryable = reason === "wait_timeout";
    this.request = request;
  }
}

/** The request was cancelled (by its agent or an admin) before anyone decided it. */
export class RequestCancelledError extends Error {
  readonly code = "request_cancelled";
  readonly stopReason = "approval_cancelled";
  readonly retryable = false;
  readonly request: ApprovalRequest;
  readonly reason: string | null;

  constructor(request: ApprovalRequest) {
    const reason = request.cancellation?.reason ?? null;
    super(`request ${request.id} was cancelled${reason ? `: ${reason}` : ""}`);
    this.name = "RequestCancelledError";
    this.request = request;
    this.reason = reason;
  }
}

/**
 * The governed call was denied (`decision: "deny"`): by a policy rule, a policy error, an exceeded
 * run budget or a kill switch, as `stopReason` says. Governing the same call again gets the same
 * answer, so it is not retryable; the agent should stop, or take another path.
 */
export class GovernDeniedError extends Error {
  readonly code = "govern_denied";
  readonly retryable = false;
  /** `policy_denied`, `policy_error`, `budget_exceeded`, `killed`, … */
  readonly stopReason: StopReason;
  /** The policy's (or budget's, or kill switch's) explanation, for the agent and its logs. */
  readonly reason: string;
  readonly ruleId: string;
  readonly policyVersion: string;
  /** The run's budgets after the call, when the policy sets any. */
  readonly budgets: BudgetView | null;
  /** The whole answer. */
  readonly result: GovernResult;

  constructor(result: GovernResult) {
    super(
      `${result.tool} was denied (${result.stop_reason ?? "denied"}, rule ${result.rule_id}): ${result.reason}`,
    );
    this.name = "GovernDeniedError";
    this.stopReason = result.stop_reason ?? "policy_denied";
    this.reason = result.reason;
    this.ruleId = result.rule_id;
    this.policyVersion = result.policy_version;
    this.budgets = result.budgets;
    this.result = result;
  }
}
