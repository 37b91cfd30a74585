/*
 * Responding to a request: which decision a response body expresses, who may give it (eligibility
 * and separation of duties), and how responses count towards the quorum that settles the request.
 * The largest step of the lifecycle, so it has a file of its own.
 */

import type { AuditDraft } from "./audit.ts";
import { ConflictError, ForbiddenError, ValidationError } from "./errors.ts";
import { argsHash } from "./hash.ts";
import { assertPending } from "./request-pending.ts";
import { principalActor, requirementsOf, type Transition } from "./request-transition.ts";
import type {
  ApprovalRequest,
  Principal,
  RequestResponse,
  RespondInput,
  Review,
  ReviewDecision,
} from "./request-types.ts";
import {
  assessResponder,
  NotEligibleError,
  type ResponderAssessment,
  SeparationOfDutiesError,
} from "./routing/eligibility.ts";
import { type ApprovalVote, personOf, quorumProgress } from "./routing/quorum.ts";

/** Which decision a response body expresses, for the request's type; refuses bodies that do not fit. */
function classify(request: ApprovalRequest, input: RespondInput): ReviewDecision {
  const fail = (path: string, message: string): never => {
    throw new ValidationError(message, [{ path, message }]);
  };
  if (input.approved === false) {
    if (input.option !== undefined) fail("/option", "option cannot be given with approved: false");
    if (input.answer !== undefined) fail("/answer", "answer cannot be given with approved: false");
    if (input.modified_args !== undefined)
      fail("/modified_args", "modified_args cannot be given when rejecting");
    return "reject";
  }
  switch (request.type) {
    case "approval":
      if (input.approved !== true) fail("/approved", "approval requests need approved: true or false");
      if (input.option !== undefined) fail("/option", "option is only for decision requests");
      if (input.answer !== undefined) fail("/answer", "answer is only for input requests");
      if (input.modified_args !== undefined && !request.tool) {
        fail("/modified_args", "modified_args needs a request with a tool");
      }
      return "approve";
    case "decision": {
      if (input.option === undefined)
        fail("/option", "decision requests need an option (or approved: false)");
      if (!request.options?.some((o) => o.name === input.option)) {
        fail("/option", `unknown option ${JSON.stringify(input.option)}`);
      }
      if (input.answer !== undefined) fail("/answer", "answer is only for input requests");
      if (input.modified_args !== undefined)
        fail("/modified_args", "modified_args is only for approval requests");
      return "choose";
    }
    case "input":
      if (typeof input.answer !== "string" || input.answer.trim() === "") {
        fail("/answer", "input requests need a non-empty answer (or approved: false)");
      }
      if (input.option !== undefined) fail("/option", "option is only for decision requests");
      if (input.modified_args !== undefined)
        fail("/modified_args", "modified_args is only for approval requests");
      return "answer";
  }
}

export interface RespondContext {
  reviewId: string;
  now: number;
  by: Principal;
  channel?: string;
  /**
   * What the server knows about the responder (reviewer record, eligible roles, conflicts). Without
   * it the responder is judged by their key alone: no reviewer record, requester rule only.
   */
  responder?: ResponderAssessment;
}

function voteOf(r: Review): ApprovalVote {
  return {
    key_id: r.reviewer.key_id,
    reviewer_id: r.reviewer_id ?? null,
    name: r.reviewer_name ?? r.reviewer.name,
    roles: r.roles ?? [],
    override: r.override ?? false,
  };
}

/**
 * Records one reviewer's response and, if it settles the request, decides it. One rejection rejects;
 * an approval request is approved once `required_approvals` distinct eligible people have approved
 * (one per required role with `require_distinct_roles`). The requester and the owners of the
 * requesting agent key may reject but never approve, choose or answer. Approving reviewers who edit
 * the arguments must agree on the edit, so the arguments that run are the ones every approver saw.
 */
export function respond(
  request: ApprovalRequest,
  priorReviews: Review[],
  input: RespondInput,
  ctx: RespondContext,
): Transition & { review: Review } {
  assertPending(request);
  if (ctx.by.role === "agent") throw new ForbiddenError("agents cannot respond to requests");
  const responder =
    ctx.responder ??
    assessResponder(request, ctx.by, null, {
      created_by_key_id: request.created_by.key_id,
      creator_issued_by: null,
    });
  if (!responder.may_respond) {
    throw new NotEligibleError(
      `only reviewers holding or covering ${request.required_roles.join(" or ")} may decide this request`,
    );
  }
  const person = personOf({ key_id: ctx.by.key_id, reviewer_id: responder.reviewer_id });
  if (priorReviews.some((r) => r.reviewer.key_id === ctx.by.key_id || personOf(voteOf(r)) === person)) {
    throw new ConflictError("already_responded", "this reviewer has already responded to the request");
  }
  const decision = classify(request, input);
  if (decision !== "reject" && responder.conflicts.length > 0) {
    const why = responder.conflicts.includes("requester")
      ? "created this request"
      : "owns the agent key that made this request";
    throw new SeparationOfDutiesError(
      `separation of duties: this responder ${why}, so they may reject it but not ${decision} it`,
    );
  }
  const at = new Date(ctx.now).toISOString();
  const modifiedHash = input.modified_args === undefined ? null : argsHash(input.modified_args);
  const review: Review = {
    id: ctx.reviewId,
    request_id: request.id,
    reviewer: ctx.by,
    reviewer_id: responder.reviewer_id,
    reviewer_name: responder.reviewer_name,
    roles: responder.roles,
    override: responder.override,
    decision,
    approved: decision !== "reject",
    option: input.option ?? null,
    answer: input.answer ?? null,
    comment: input.comment ?? null,
    modified_args: input.modified_args ?? null,
    modified_args_hash: modifiedHash,
    channel: ctx.channel ?? "api",
    created_at: at,
  };
  const reviews = [...priorReviews, review];
  const approvals = reviews.filter((r) => r.decision === "approve");
  if (decision === "approve") {
    const edits = new Set(approvals.map((r) => r.modified_args_hash).filter((h) => h !== null));
    if (edits.size > 1) {
      throw new ConflictError(
        "conflicting_edits",
        "another approver already approved different modified_args",
      );
    }
  }
  const quorum = quorumProgress(requirementsOf(request), approvals.map(voteOf));
  const counted = quorum.approvers.some((a) => personOf(a) === person);
  const audit: AuditDraft[] = [
    {
      at,
      kind: "review.recorded",
      subject_id: request.id,
      correlation_id: request.correlation_id,
      actor: principalActor(ctx.by),
      data: {
        review_id: review.id,
        decision,
        option: review.option,
        answer: review.answer,
        comment: review.comment,
        channel: review.channel,
        reviewer_id: review.reviewer_id,
        roles: review.roles,
        override: review.override,
        conflicts: responder.conflicts,
        counted: decision === "approve" ? counted : null,
        quorum: quorum.summary,
        proposed_args_hash: request.tool?.args_hash ?? null,
        modified_args_hash: modifiedHash,
      },
    },
  ];
  let next: ApprovalRequest = { ...request, quorum, updated_at: at };
  const settled = decision !== "approve" || quorum.approvals >= request.required_approvals;
  if (settled) {
    const edited = approvals.find((r) => r.modified_args_hash !== null);
    const response: RequestResponse = {
      approved: review.approved,
      option: review.option,
      answer: review.answer,
      comment: review.comment,
      modified_args: decision === "approve" && edited ? edited.modified_args : null,
      reviews,
      decided_at: at,
    };
    const status = decision === "reject" ? "rejected" : decision === "approve" ? "approved" : "answered";
    next = { ...next, status, response };
    audit.push({
      at,
      kind: `request.${status}`,
      subject_id: request.id,
      correlation_id: request.correlation_id,
      actor: principalActor(ctx.by),
      data: {
        status,
        reviewers: reviews.map((r) => r.reviewer.key_id),
        approvers: status === "approved" ? quorum.approvers : [],
        overrides: reviews.filter((r) => r.override).map((r) => r.reviewer.key_id),
        option: response.option,
        answer: response.answer,
        comment: response.comment,
        proposed_args_hash: request.tool?.args_hash ?? null,
        approved_args_hash:
          status === "approved" && request.tool
            ? (edited?.modified_args_hash ?? request.tool.args_hash)
            : null,
      },
    });
  }
  return { request: next, review, audit };
}
