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
  PendingEdit,
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
 * The arguments an approval approves, by hash: its edit's, else the proposed ones'; null when the
 * request has no tool (every approval then approves the same thing). Reviews stored before
 * `approved_args_hash` existed are read the same way.
 */
function approvedHashOf(request: ApprovalRequest, r: Review): string | null {
  if (r.decision !== "approve" || !request.tool) return null;
  return r.approved_args_hash ?? r.modified_args_hash ?? request.tool.args_hash;
}

/** Approvals grouped by the arguments they approve, in the order each was first approved. */
function tallyByArgs(request: ApprovalRequest, approvals: Review[]): Map<string | null, Review[]> {
  const tallies = new Map<string | null, Review[]>();
  for (const r of approvals) {
    const hash = approvedHashOf(request, r);
    tallies.set(hash, [...(tallies.get(hash) ?? []), r]);
  }
  return tallies;
}

/**
 * Records one reviewer's response and, if it settles the request, decides it. One rejection rejects;
 * an approval request is approved once `required_approvals` distinct eligible people have approved
 * the same arguments (one per required role with `require_distinct_roles`). The requester and the
 * owners of the requesting agent key may reject but never approve, choose or answer.
 *
 * Every approval counts only for the exact arguments it approved: the proposed ones (a plain
 * `approved: true`) or its `modified_args`. Approvals of different arguments never add up, so the
 * arguments that run are the ones every counted approver approved. While pending, each edit and its
 * approvals are listed in `pending_edits`; a later approver approves an edit by sending the same
 * `modified_args`.
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
  // Absent arguments are `{}` (as for the proposed ones), so an edit to `null` approves `{}`.
  const edit = input.modified_args === undefined ? undefined : (input.modified_args ?? {});
  const modifiedHash = edit === undefined ? null : argsHash(edit);
  const proposedHash = request.tool?.args_hash ?? null;
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
    modified_args: edit ?? null,
    modified_args_hash: modifiedHash,
    approved_args_hash: decision === "approve" && request.tool ? (modifiedHash ?? proposedHash) : null,
    channel: ctx.channel ?? "api",
    created_at: at,
  };
  const reviews = [...priorReviews, review];
  const requirements = requirementsOf(request);
  const tallies = tallyByArgs(
    request,
    reviews.filter((r) => r.decision === "approve"),
  );
  const progressOf = (hash: string | null) =>
    quorumProgress(requirements, (tallies.get(hash) ?? []).map(voteOf));
  // The quorum this response counts towards: that of the arguments it approved.
  const mine = decision === "approve" ? progressOf(review.approved_args_hash) : null;
  const approvedNow = mine !== null && mine.approvals >= request.required_approvals;
  const quorum = approvedNow ? mine : progressOf(proposedHash);
  const pendingEdits: PendingEdit[] = [...tallies].flatMap(([hash, votes]) =>
    hash === null || hash === proposedHash
      ? []
      : [{ args: votes[0]?.modified_args ?? {}, args_hash: hash, quorum: progressOf(hash) }],
  );
  const counted = mine?.approvers.some((a) => personOf(a) === person) ?? false;
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
        quorum: (mine ?? quorum).summary,
        proposed_args_hash: proposedHash,
        modified_args_hash: modifiedHash,
        approved_args_hash: review.approved_args_hash,
      },
    },
  ];
  let next: ApprovalRequest = { ...request, quorum, pending_edits: pendingEdits, updated_at: at };
  const settled = decision !== "approve" || approvedNow;
  if (settled) {
    const approvedArgsHash = approvedNow && request.tool ? review.approved_args_hash : null;
    const edited =
      approvedArgsHash !== null && approvedArgsHash !== proposedHash
        ? pendingEdits.find((e) => e.args_hash === approvedArgsHash)
        : undefined;
    const response: RequestResponse = {
      approved: review.approved,
      option: review.option,
      answer: review.answer,
      comment: review.comment,
      modified_args: edited ? edited.args : null,
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
        proposed_args_hash: proposedHash,
        approved_args_hash: approvedArgsHash,
      },
    });
  }
  return { request: next, review, audit };
}
