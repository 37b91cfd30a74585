/*
 * Creating a request: the rules a schema cannot express, routing it to reviewers, and the audit
 * entries that record both. Kept apart from responding and closing because nothing here depends on
 * an existing request.
 */

import type { AuditDraft } from "./audit.ts";
import { canonicalize } from "./canonical-json.ts";
import { ValidationError } from "./errors.ts";
import { argsHash, sha256Hex } from "./hash.ts";
import { principalActor, type Transition } from "./request-transition.ts";
import type { ApprovalRequest, NewRequestInput, Principal } from "./request-types.ts";
import { validateRequirements } from "./routing/control-map.ts";
import { type EscalationDefaults, escalationDelay } from "./routing/escalation.ts";
import { quorumProgress } from "./routing/quorum.ts";
import { planRouting, routingRecord } from "./routing/route.ts";
import type {
  ApprovalRequirements,
  RequesterFacts,
  RequestRouting,
  RoutingReviewer,
} from "./routing/types.ts";

export const MAX_TTL_SECONDS = 30 * 24 * 3600;

/** The fingerprint of a create body: identical replays have the same one, whatever the key order. */
export function requestBodyHash(input: NewRequestInput): string {
  return sha256Hex(canonicalize(input));
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
    pending_edits: [],
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
