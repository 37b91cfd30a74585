import { ApprovalRejectedError, ApprovalTimeoutError, RequestCancelledError } from "./outcome-errors.ts";
import { approvalRequest } from "./parse.ts";
import { backoffDelay, sleep } from "./retry.ts";
import type { Transport } from "./transport.ts";
import { type ApprovalRequest, isTerminal } from "./types.ts";

/*
 * Waiting for a human: a loop over the server's long-poll (`GET /v1/requests/{id}/wait`), which holds
 * each call until the request is decided or its hold time passes. A decision therefore reaches the
 * waiting agent as soon as the server commits it, with no polling interval in between, and an idle
 * wait costs one HTTP call per `pollSeconds`.
 */

export interface WaitOptions {
  /** Stop waiting after this long overall (then `ApprovalTimeoutError`, reason `wait_timeout`). Default: no limit. */
  timeoutMs?: number;
  /** Aborting rejects the wait at once with the signal's reason (an `AbortError` by default). */
  signal?: AbortSignal;
  /** How long each long-poll asks the server to hold, in seconds: 1 to 60. Default 30. */
  pollSeconds?: number;
}

const MAX_POLL_SECONDS = 60;
const DEFAULT_POLL_SECONDS = 30;

/**
 * Resolves with the request once it is terminal (approved, rejected, answered, cancelled or
 * timed_out). Transient failures of a poll are retried with backoff (the retry budget starts afresh
 * for every poll, so a wait of hours survives a server restart); past `timeoutMs` it throws
 * `ApprovalTimeoutError` carrying the still-pending request.
 */
export async function waitForDecision(
  transport: Transport,
  id: string,
  options: WaitOptions = {},
): Promise<ApprovalRequest> {
  const pollSeconds = options.pollSeconds ?? DEFAULT_POLL_SECONDS;
  // Below a second a long-poll degenerates into plain polling, which is what it exists to avoid.
  if (!(pollSeconds >= 1 && pollSeconds <= MAX_POLL_SECONDS)) {
    throw new RangeError(`pollSeconds must be between 1 and ${MAX_POLL_SECONDS}`);
  }
  const { timeoutMs, signal } = options;
  if (timeoutMs !== undefined && !(timeoutMs >= 0)) throw new RangeError("timeoutMs must be ≥ 0");
  const deadline = timeoutMs === undefined ? undefined : performance.now() + timeoutMs;
  const path = `/v1/requests/${encodeURIComponent(id)}/wait`;
  let pending: ApprovalRequest | undefined;
  let earlyReturns = 0;

  for (;;) {
    const remaining = deadline === undefined ? Number.POSITIVE_INFINITY : deadline - performance.now();
    // Always ask at least once, so even `timeoutMs: 0` reports the request's current state.
    if (pending && remaining <= 0) throw new ApprovalTimeoutError(pending, "wait_timeout");
    // Never ask the server to hold past our own deadline: the wait ends on time, not up to a poll late.
    const holdMs = Math.round(Math.max(0, Math.min(pollSeconds * 1000, remaining)));
    const sentAt = performance.now();
    const { value } = await transport.send(
      {
        method: "GET",
        path,
        query: { timeout_seconds: holdMs / 1000 },
        idempotent: true,
        signal,
        // The server holds the call for up to holdMs by design; the usual timeout applies on top.
        timeoutMs: holdMs + transport.config.timeoutMs,
        ...(deadline !== undefined ? { deadline } : {}),
      },
      approvalRequest,
    );
    if (isTerminal(value.status)) return value;
    pending = value;

    // A pending answer well before the hold time (a server shutting down, a proxy cutting long
    // requests short) must not turn this loop into a hot loop hammering the server: back off until
    // polls hold again.
    const now = performance.now();
    if (now - sentAt < holdMs / 2) {
      earlyReturns++;
      const left = deadline === undefined ? Number.POSITIVE_INFINITY : deadline - now;
      await sleep(Math.min(backoffDelay(earlyReturns, transport.config.retry), Math.max(0, left)), signal);
    } else {
      earlyReturns = 0;
    }
  }
}

/**
 * Waits for a positive decision: resolves with the request when it is `approved` (or `answered`,
 * the positive outcome of decision and input requests). Otherwise throws
 * `ApprovalRejectedError` (with the reviewer's comment), `ApprovalTimeoutError` (`request_expired`
 * when the request's TTL passed; `wait_timeout` when `timeoutMs` passed first) or
 * `RequestCancelledError`. A timeout is never reported as a rejection.
 */
export async function waitForApproval(
  transport: Transport,
  id: string,
  options: WaitOptions = {},
): Promise<ApprovalRequest> {
  const request = await waitForDecision(transport, id, options);
  switch (request.status) {
    case "approved":
    case "answered":
      return request;
    case "rejected":
      throw new ApprovalRejectedError(request);
    case "timed_out":
      throw new ApprovalTimeoutError(request, "request_expired");
    case "cancelled":
      throw new RequestCancelledError(request);
    case "pending":
      // waitForDecision only returns terminal requests; this keeps the switch exhaustive.
      throw new ApprovalTimeoutError(request, "wait_timeout");
  }
}
