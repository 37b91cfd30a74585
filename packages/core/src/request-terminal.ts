/*
 * Ending a pending request without a decision: cancellation by its creator or an admin, and expiry
 * once its TTL has passed. Both are terminal, and neither involves reviewers or the quorum.
 */

import { ForbiddenError } from "./errors.ts";
import { assertPending } from "./request-pending.ts";
import { principalActor, type Transition } from "./request-transition.ts";
import type { ApprovalRequest, Principal } from "./request-types.ts";
import { isTerminal } from "./request-types.ts";

export function cancelRequest(
  request: ApprovalRequest,
  ctx: { now: number; by: Principal; reason?: string },
): Transition {
  assertPending(request);
  if (ctx.by.role === "reviewer") throw new ForbiddenError("reviewers cannot cancel requests");
  if (ctx.by.role === "agent" && ctx.by.key_id !== request.created_by.key_id) {
    throw new ForbiddenError("agents may only cancel their own requests");
  }
  const at = new Date(ctx.now).toISOString();
  const reason = ctx.reason ?? null;
  return {
    request: { ...request, status: "cancelled", cancellation: { reason, by: ctx.by }, updated_at: at },
    audit: [
      {
        at,
        kind: "request.cancelled",
        subject_id: request.id,
        correlation_id: request.correlation_id,
        actor: principalActor(ctx.by),
        data: { reason },
      },
    ],
  };
}

/** A request whose TTL has passed times out. A timeout is its own outcome, never a rejection. */
export function expireRequest(request: ApprovalRequest, now: number): Transition | null {
  if (isTerminal(request.status) || request.expires_at === null) return null;
  if (Date.parse(request.expires_at) > now) return null;
  const at = new Date(now).toISOString();
  return {
    request: { ...request, status: "timed_out", updated_at: at },
    audit: [
      {
        at,
        kind: "request.timed_out",
        subject_id: request.id,
        correlation_id: request.correlation_id,
        actor: { type: "system", name: "expiry" },
        data: { expires_at: request.expires_at, approvals: request.quorum.approvals },
      },
    ],
  };
}
