import type { AuditActor, AuditDraft } from "./audit.ts";
import { canonicalize } from "./canonical-json.ts";
import { ConflictError, ForbiddenError, ValidationError } from "./errors.ts";
import { argsHash, sha256Hex } from "./hash.ts";
import type {
  ApprovalRequest,
  NewRequestInput,
  Principal,
  RequestResponse,
  RespondInput,
  Review,
  ReviewDecision,
} from "./request-types.ts";
import { isTerminal } from "./request-types.ts";

export const MAX_TTL_SECONDS = 30 * 24 * 3600;

export function principalActor(p: Principal): AuditActor {
  return { type: "key", key_id: p.key_id, name: p.name, role: p.role };
}

export const SYSTEM_ACTOR: AuditActor = { type: "system", name: "countersign" };

/** The fingerprint of a create body: identical replays have the same one, whatever the key order. */
export function requestBodyHash(input: NewRequestInput): string {
  return sha256Hex(canonicalize(input));
}

export interface Transition {
  request: ApprovalRequest;
  audit: AuditDraft[];
}

/** Builds a new pending request from a schema-validated body; enforces the rules a schema cannot. */
export function createRequest(
  input: NewRequestInput,
  ctx: { id: string; now: number; by: Principal },
): Transition {
  const type = input.type ?? "approval";
  const question = input.question ?? null;
  const title = input.title ?? null;
  if (!question && !title) {
    throw new ValidationError("either question or title is required", [
      { path: "/question", message: "either question or title is required" },
    ]);
  }
  const options = input.options ?? null;
  if (type === "decision") {
    if (!options || options.length < 2) {
      throw new ValidationError("a decision request needs at least two options", [
        { path: "/options", message: "a decision request needs at least two options" },
      ]);
    }
  }
  if (options) {
    const names = new Set<string>();
    options.forEach((o, i) => {
      if (names.has(o.name)) {
        throw new ValidationError(`duplicate option name ${JSON.stringify(o.name)}`, [
          { path: `/options/${i}/name`, message: "option names must be unique" },
        ]);
      }
      names.add(o.name);
    });
    if (type !== "decision") {
      throw new ValidationError("options are only meaningful for decision requests", [
        { path: "/options", message: "options are only allowed when type is decision" },
      ]);
    }
  }
  const roles = [
    ...new Set([...(input.required_role ? [input.required_role] : []), ...(input.required_roles ?? [])]),
  ];
  const requiredApprovals = input.required_approvals ?? 1;
  if (requiredApprovals > 1 && type !== "approval") {
    throw new ValidationError("required_approvals above 1 applies only to approval requests", [
      { path: "/required_approvals", message: "must be 1 unless type is approval" },
    ]);
  }
  const tool = input.tool
    ? { name: input.tool.name, args: input.tool.args ?? {}, args_hash: argsHash(input.tool.args ?? {}) }
    : null;
  const at = new Date(ctx.now).toISOString();
  const ttl = input.ttl_seconds ?? null;
  const request: ApprovalRequest = {
    id: ctx.id,
    type,
    status: "pending",
    question,
    title,
    context: input.context ?? null,
    options,
    required_roles: roles,
    required_approvals: requiredApprovals,
    priority: input.priority ?? "normal",
    ttl_seconds: ttl,
    expires_at: ttl === null ? null : new Date(ctx.now + ttl * 1000).toISOString(),
    external_request_id: input.external_request_id ?? null,
    correlation_id: input.correlation_id ?? input.source?.run_id ?? ctx.id,
    metadata: input.metadata ?? null,
    callback_url: input.callback_url ?? null,
    source: input.source ?? null,
    actor: input.actor ?? null,
    created_by: ctx.by,
    trace_id: input.trace_id ?? null,
    parent_trace_id: input.parent_trace_id ?? null,
    tool_calls: input.tool_calls ?? null,
    retrieved_context: input.retrieved_context ?? null,
    tool,
    body_hash: requestBodyHash(input),
    quorum: { required: requiredApprovals, approvals: 0 },
    response: null,
    cancellation: null,
    created_at: at,
    updated_at: at,
  };
  return {
    request,
    audit: [
      {
        at,
        kind: "request.created",
        subject_id: request.id,
        correlation_id: request.correlation_id,
        actor: principalActor(ctx.by),
        data: {
          type,
          question,
          title,
          priority: request.priority,
          required_roles: roles,
          required_approvals: requiredApprovals,
          expires_at: request.expires_at,
          external_request_id: request.external_request_id,
          tool: tool ? { name: tool.name, args_hash: tool.args_hash } : null,
          claimed_actor: request.actor,
          trace_id: request.trace_id,
          body_hash: request.body_hash,
        },
      },
    ],
  };
}

function assertPending(request: ApprovalRequest): void {
  if (isTerminal(request.status)) {
    throw new ConflictError("already_decided", `request ${request.id} is already ${request.status}`);
  }
}

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

/**
 * Records one reviewer's response and, if it settles the request, decides it. One rejection rejects;
 * an approval request is approved once `required_approvals` distinct reviewers have approved.
 * Approving reviewers who edit the arguments must agree on the edit, so the arguments that run are
 * the ones every approver saw.
 */
export function respond(
  request: ApprovalRequest,
  priorReviews: Review[],
  input: RespondInput,
  ctx: { reviewId: string; now: number; by: Principal; channel?: string },
): Transition & { review: Review } {
  assertPending(request);
  if (ctx.by.role === "agent") throw new ForbiddenError("agents cannot respond to requests");
  if (priorReviews.some((r) => r.reviewer.key_id === ctx.by.key_id)) {
    throw new ConflictError("already_responded", "this reviewer has already responded to the request");
  }
  const decision = classify(request, input);
  const at = new Date(ctx.now).toISOString();
  const modifiedHash = input.modified_args === undefined ? null : argsHash(input.modified_args);
  const review: Review = {
    id: ctx.reviewId,
    request_id: request.id,
    reviewer: ctx.by,
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
        proposed_args_hash: request.tool?.args_hash ?? null,
        modified_args_hash: modifiedHash,
      },
    },
  ];
  let next: ApprovalRequest = {
    ...request,
    quorum: { required: request.required_approvals, approvals: approvals.length },
    updated_at: at,
  };
  const settled = decision !== "approve" || approvals.length >= request.required_approvals;
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
