/*
 * Reading requests and reviews stored before routing existed: fills in the fields they lack so the
 * rest of the lifecycle sees one shape. Storage compatibility, not a lifecycle step.
 */

import type { ApprovalRequest, Review } from "./request-types.ts";
import type { QuorumProgress } from "./routing/types.ts";

/**
 * Brings a stored request written before routing existed up to the current shape: no routing
 * record, no distinct-roles requirement, quorum progress rebuilt from the counts it kept, and no
 * pending edits (for one stored before edits were tallied apart, the next response recounts them).
 */
export function upgradeRequest(request: ApprovalRequest): ApprovalRequest {
  const stored = request as ApprovalRequest & {
    quorum: Partial<QuorumProgress>;
    pending_edits?: ApprovalRequest["pending_edits"];
  };
  const current = request.routing !== undefined && stored.quorum.summary !== undefined;
  if (current && stored.pending_edits !== undefined) return request;
  const withEdits = { ...request, pending_edits: stored.pending_edits ?? [] };
  if (current) return withEdits;
  const required = stored.quorum.required ?? request.required_approvals;
  const approvals = stored.quorum.approvals ?? 0;
  return {
    ...withEdits,
    require_distinct_roles: request.require_distinct_roles ?? false,
    escalate_after_seconds: request.escalate_after_seconds ?? null,
    routing: request.routing ?? null,
    quorum: {
      required,
      approvals,
      remaining: Math.max(0, required - approvals),
      distinct_roles: request.require_distinct_roles ?? false,
      approvers: stored.quorum.approvers ?? [],
      missing_roles: stored.quorum.missing_roles ?? [],
      summary: `${approvals} of ${required}`,
    },
  };
}

/** Reviews recorded before routing existed carry no reviewer record, roles or override flag. */
export function upgradeReview(review: Review): Review {
  if (review.reviewer_id !== undefined) return review;
  return { ...review, reviewer_id: null, reviewer_name: null, roles: [], override: false };
}
