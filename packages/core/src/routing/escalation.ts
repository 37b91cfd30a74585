import type { AuditDraft } from "../audit.ts";
import type { ApprovalRequest, Priority } from "../request-types.ts";
import { conflictsOf } from "./eligibility.ts";
import { personOf, quorumCapacity } from "./quorum.ts";
import { planRouting } from "./route.ts";
import type { Assignee, RequesterFacts, RequestRouting, RoutingReviewer, RoutingTier } from "./types.ts";

/**
 * Escalation: a request still pending `escalate_after_seconds` after it was routed goes to the next
 * tier — fallback reviewers, then admins — once per tier. The next escalation time is part of the
 * request (and of its row), so a restart neither loses nor repeats one.
 */

/** Seconds before escalation, per priority; null: requests of that priority do not escalate by default. */
export type EscalationDefaults = Record<Priority, number | null>;

export const DEFAULT_ESCALATION: EscalationDefaults = {
  urgent: 180,
  high: 600,
  normal: 1800,
  low: null,
};

export const MAX_ESCALATE_AFTER_SECONDS = 30 * 24 * 3600;

/** An explicit value wins (null turns escalation off); otherwise the priority's default. */
export function escalationDelay(
  explicit: number | null | undefined,
  priority: Priority,
  defaults: EscalationDefaults = DEFAULT_ESCALATION,
): number | null {
  if (explicit !== undefined) return explicit;
  return defaults[priority];
}

/** An admin key, as the last tier sees it (with the reviewer record linked to it, if any). */
export interface AdminContact {
  key_id: string;
  name: string;
  reviewer_id: string | null;
}

export interface EscalationContext {
  now: number;
  reviewers: readonly RoutingReviewer[];
  admins: readonly AdminContact[];
  requester: RequesterFacts;
}

export interface Escalation {
  request: ApprovalRequest;
  audit: AuditDraft[];
}

function isDue(routing: RequestRouting | null | undefined, now: number): routing is RequestRouting {
  return !!routing && routing.next_escalation_at !== null && Date.parse(routing.next_escalation_at) <= now;
}

function nextTier(from: RoutingTier | null): RoutingTier | null {
  return from === "primary" ? "fallback" : from === "admins" ? null : "admins";
}

/**
 * Escalates a pending request whose escalation time has passed, or returns null. Going to the
 * fallback tier also picks up role holders who came on shift since; if no fallback reviewer is on
 * shift, it goes straight to the admins.
 */
export function escalateRequest(request: ApprovalRequest, ctx: EscalationContext): Escalation | null {
  const routing = request.routing;
  if (request.status !== "pending" || !isDue(routing, ctx.now)) return null;
  const assigned = new Set(
    routing.assignees.map((a) => personOf({ key_id: a.key_id ?? "", reviewer_id: a.reviewer_id })),
  );
  let to = nextTier(routing.tier);
  if (to === null) return null;
  let added: Assignee[] = [];
  const requirements = {
    required_roles: request.required_roles,
    required_approvals: request.required_approvals,
    require_distinct_roles: request.require_distinct_roles,
  };
  if (to === "fallback") {
    const plan = planRouting(requirements, ctx.reviewers, { now: ctx.now, requester: ctx.requester });
    // Everyone on shift who could decide, holders and fallbacks alike, minus those already asked.
    const fresh = [
      ...plan.on_shift_capacity.flatMap((e) => e.reviewers),
      ...plan.fallback_reviewers.flatMap((e) => e.reviewers),
    ];
    const ids = new Set(fresh.map((r) => r.id));
    added = ctx.reviewers
      .filter((r) => ids.has(r.id) && !assigned.has(personOf({ key_id: r.key_id ?? "", reviewer_id: r.id })))
      .map((r) => {
        const holds = r.roles.filter((role) => request.required_roles.includes(role));
        const covers = r.fallback_for.filter((role) => request.required_roles.includes(role));
        return holds.length > 0
          ? {
              reviewer_id: r.id,
              key_id: r.key_id,
              name: r.name,
              roles: holds,
              tier: "primary" as const,
              reason: `holds ${holds.join(", ")}, came on shift`,
            }
          : {
              reviewer_id: r.id,
              key_id: r.key_id,
              name: r.name,
              roles: covers,
              tier: "fallback" as const,
              reason: `covers ${covers.join(", ")} as fallback, on shift (escalated)`,
            };
      });
    if (!added.some((a) => a.tier === "fallback")) to = "admins";
  }
  if (to === "admins") {
    added = [
      ...added,
      ...ctx.admins
        .filter((a) => !assigned.has(personOf({ key_id: a.key_id, reviewer_id: a.reviewer_id })))
        // An admin who may not approve this request (separation of duties) is not worth asking.
        .filter((a) => {
          const record = ctx.reviewers.find((r) => r.id === a.reviewer_id) ?? null;
          return conflictsOf(record, a.key_id, ctx.requester).length === 0;
        })
        .map((a) => ({
          reviewer_id: a.reviewer_id,
          key_id: a.key_id,
          name: a.name,
          roles: [],
          tier: "admins" as const,
          reason: "admin (escalated)",
        })),
    ];
  }
  const at = new Date(ctx.now).toISOString();
  const after = routing.escalate_after_seconds;
  const next = to === "admins" || after === null ? null : new Date(ctx.now + after * 1000).toISOString();
  const assignees = [...routing.assignees, ...added];
  const decidable =
    assignees.some((a) => a.tier === "admins") ||
    quorumCapacity(
      requirements,
      assignees.map((a) => ({ roles: a.roles })),
    ) >= request.required_approvals;
  const state: RequestRouting["state"] =
    routing.state === "open" ? "open" : decidable ? "routed" : "unroutable";
  const escalated: RequestRouting = {
    ...routing,
    state,
    tier: to,
    assignees,
    escalations: routing.escalations + 1,
    escalated_at: at,
    next_escalation_at: next,
  };
  return {
    request: { ...request, routing: escalated, updated_at: at },
    audit: [
      {
        at,
        kind: "request.escalated",
        subject_id: request.id,
        correlation_id: request.correlation_id,
        actor: { type: "system", name: "escalation" },
        data: {
          from_tier: routing.tier,
          to_tier: to,
          escalation: escalated.escalations,
          pending_since: request.created_at,
          escalate_after_seconds: after,
          state,
          added: added.map((a) => ({
            reviewer_id: a.reviewer_id,
            key_id: a.key_id,
            name: a.name,
            tier: a.tier,
            reason: a.reason,
          })),
          next_escalation_at: next,
        },
      },
    ],
  };
}
