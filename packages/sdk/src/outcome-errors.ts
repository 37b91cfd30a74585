import type { ApprovalRequest } from "./types.ts";

/*
 * How a wait for approval can end other than with a go-ahead. These are outcomes, not transport
 * failures, so they are not `CountersignError`s: the call to the server worked. Each carries the
 * request as last seen, and a `code` matching the stop reasons the server uses for governed calls.
 *
 * A timeout is never reported as a rejection: nobody said no, and a request that is still pending
 * (`reason: "wait_timeout"`) can still be approved later.
 */

/** A reviewer rejected the request. */
export class ApprovalRejectedError extends Error {
  readonly code = "approval_rejected";
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
    this.retryable = reason === "wait_timeout";
    this.request = request;
  }
}

/** The request was cancelled (by its agent or an admin) before anyone decided it. */
export class RequestCancelledError extends Error {
  readonly code = "request_cancelled";
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
