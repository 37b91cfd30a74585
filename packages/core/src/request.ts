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
import { validateRequirements } from "./routing/control-map.ts";
import {
  assessResponder,
  NotEligibleError,
  type ResponderAssessment,
  SeparationOfDutiesError,
} from "./routing/eligibility.ts";
import { type EscalationDefaults, escalationDelay } from "./routing/escalation.ts";
import { type ApprovalVote, personOf, quorumProgress } from "./routing/quorum.ts";
import { planRouting, routingRecord } from "./routing/route.ts";
import type {
  ApprovalRequirements,
  QuorumProgress,
  RequesterFacts,
  RequestRouting,
  RoutingReviewer,
} from "./routing/types.ts";

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

export interface CreateContext {
  id: string;
  now: number;
  by: Principal;
  /** Reviewers that may be routed to (those covering the required roles suffice); default none. */
  reviewers?: readonly RoutingReviewer[];
  /** Who is asking, for separation of duties; default: the creating key, issuer unknown. */
  requester?: RequesterFacts;
  /** Escalation delays by priority; default DEFAULT_ESCALATION. */
  escalation?: EscalationDefaults;
}

/** The quorum fields of a request, as routing and counting read them. */
export function requirementsOf(
  request: Pick<ApprovalRequest, "required_roles" | "required_approvals" | "require_distinct_roles">,
): ApprovalRequirements {
  return {
    required_roles: request.required_roles,
    required_approvals: request.required_approvals,
    require_distinct_roles: request.require_distinct_roles ?? false,
  };
}

/**
 * Builds a new pending request from a schema-validated body, enforces the rules a schema cannot,
 * and routes it: a request with required roles goes to the eligible reviewers on shift (or their
 * fallbacks), and is flagged unroutable — still created — when they cannot satisfy its quorum.
 */
export function createRequest(input: NewRequestInput, ctx: CreateContext): Transition {
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
  const requirements: ApprovalRequirements = {
    required_roles: roles,
    required_approvals: requiredApprovals,
    require_distinct_roles: input.require_distinct_roles ?? false,
  };
  validateRequirements(requirements, type);
  const priority = input.priority ?? "normal";
  const plan = planRouting(requirements, ctx.reviewers ?? [], {
    now: ctx.now,
    requester: ctx.requester ?? { created_by_key_id: ctx.by.key_id, creator_issued_by: null },
  });
  const routing = routingRecord(plan, {
    now: ctx.now,
    escalateAfterSeconds: escalationDelay(input.escalate_after_seconds, priority, ctx.escalation),
  });
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
    require_distinct_roles: requirements.require_distinct_roles,
    priority,
    ttl_seconds: ttl,
    expires_at: ttl === null ? null : new Date(ctx.now + ttl * 1000).toISOString(),
    escalate_after_seconds: routing.escalate_after_seconds,
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
    quorum: quorumProgress(requirements, []),
    routing,
    response: null,
    cancellation: null,
    created_at: at,
    updated_at: at,
  };
  const audit: AuditDraft[] = [
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
        require_distinct_roles: requirements.require_distinct_roles,
        escalate_after_seconds: routing.escalate_after_seconds,
        expires_at: request.expires_at,
        external_request_id: request.external_request_id,
        tool: tool ? { name: tool.name, args_hash: tool.args_hash } : null,
        claimed_actor: request.actor,
        trace_id: request.trace_id,
        body_hash: request.body_hash,
      },
    },
  ];
  // Open requests (no required roles) are not routed to anyone in particular: nothing to record.
  if (routing.state !== "open") audit.push(routedEntry(request, routing, at));
  return { request, audit };
}

/** `request.routed`, or `request.unroutable` when nobody routed to can satisfy the quorum. */
function routedEntry(request: ApprovalRequest, routing: RequestRouting, at: string): AuditDraft {
  return {
    at,
    kind: routing.state === "unroutable" ? "request.unroutable" : "request.routed",
    subject_id: request.id,
    correlation_id: request.correlation_id,
    actor: { type: "system", name: "routing" },
    data: {
      state: routing.state,
      tier: routing.tier,
      assignees: routing.assignees.map((a) => ({
        reviewer_id: a.reviewer_id,
        key_id: a.key_id,
        name: a.name,
        roles: a.roles,
        tier: a.tier,
        reason: a.reason,
      })),
      warnings: routing.warnings,
      next_escalation_at: routing.next_escalation_at,
    },
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

/**
 * Brings a stored request written before routing existed up to the current shape: no routing
 * record, no distinct-roles requirement, and quorum progress rebuilt from the counts it kept.
 */
export function upgradeRequest(request: ApprovalRequest): ApprovalRequest {
  const stored = request as ApprovalRequest & { quorum: Partial<QuorumProgress> };
  if (request.routing !== undefined && stored.quorum.summary !== undefined) return request;
  const required = stored.quorum.required ?? request.required_approvals;
  const approvals = stored.quorum.approvals ?? 0;
  return {
    ...request,
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
