import { conflictsOf, eligibleRoles } from "./eligibility.ts";
import { quorumCapacity } from "./quorum.ts";
import { isOnShift } from "./schedule.ts";
import type {
  ApprovalRequirements,
  Assignee,
  CapacityEntry,
  RequesterFacts,
  RequestRouting,
  RoutingReviewer,
  RoutingTier,
  RoutingWarning,
} from "./types.ts";

/**
 * Routing: who a request goes to now. For each required role, the eligible reviewers who hold it
 * and are on shift; if they cannot satisfy the quorum, the on-shift fallback reviewers of the roles
 * nobody on shift holds, then of every required role; if even that cannot, the request is
 * unroutable (it is still created, and says why). Reviewers who may not count towards the quorum
 * (separation of duties) are never routed to.
 */

export interface RoutingPlan {
  state: RequestRouting["state"];
  tier: RoutingTier | null;
  assignees: Assignee[];
  warnings: RoutingWarning[];
  on_shift_capacity: CapacityEntry[];
  fallback_reviewers: CapacityEntry[];
  /** Reviewers whose shifts matter for these requirements (for the next shift change). */
  relevant: RoutingReviewer[];
}

interface Candidate {
  reviewer: RoutingReviewer;
  roles: string[];
  holds: boolean;
  onShift: boolean;
}

const ALL_ROLES = "*";

function entry(role: string, people: Candidate[]): CapacityEntry {
  return {
    role,
    reviewers: people.map((c) => ({ id: c.reviewer.id, name: c.reviewer.name })),
    count: people.length,
  };
}

function assignee(c: Candidate, tier: RoutingTier): Assignee {
  const roles = c.roles.join(", ");
  return {
    reviewer_id: c.reviewer.id,
    key_id: c.reviewer.key_id,
    name: c.reviewer.name,
    roles: c.roles,
    tier,
    reason: tier === "primary" ? `holds ${roles}, on shift` : `covers ${roles} as fallback, on shift`,
  };
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function planRouting(
  req: ApprovalRequirements,
  reviewers: readonly RoutingReviewer[],
  ctx: { now: number; requester: RequesterFacts | null },
): RoutingPlan {
  const roles = req.required_roles;
  const open = roles.length === 0;
  const warnings: RoutingWarning[] = [];
  const covering = open ? [...reviewers] : reviewers.filter((r) => eligibleRoles(r, roles).length > 0);
  const requester = ctx.requester;
  const conflicted = requester ? covering.filter((r) => conflictsOf(r, r.key_id, requester).length > 0) : [];
  if (conflicted.length > 0) {
    warnings.push({
      code: "conflicts_excluded",
      message: `${plural(conflicted.length, "reviewer")} excluded: the requester or an owner of the requesting agent key cannot count towards the quorum`,
    });
  }
  const candidates: Candidate[] = covering
    .filter((r) => !conflicted.includes(r))
    .map((r) => ({
      reviewer: r,
      roles: eligibleRoles(r, roles),
      holds: r.roles.some((role) => roles.includes(role)),
      onShift: isOnShift(r, ctx.now),
    }));
  const onShift = candidates.filter((c) => c.onShift);
  const need = req.required_approvals;
  const capacity = (people: Candidate[]) => quorumCapacity(req, people);

  const onShiftCapacity: CapacityEntry[] = [];
  const fallbackCapacity: CapacityEntry[] = [];
  if (open) {
    onShiftCapacity.push(entry(ALL_ROLES, onShift));
  } else {
    for (const role of roles) {
      const holders = candidates.filter((c) => c.reviewer.roles.includes(role));
      const fallbacks = candidates.filter(
        (c) => c.reviewer.fallback_for.includes(role) && !c.reviewer.roles.includes(role),
      );
      onShiftCapacity.push(
        entry(
          role,
          holders.filter((c) => c.onShift),
        ),
      );
      fallbackCapacity.push(
        entry(
          role,
          fallbacks.filter((c) => c.onShift),
        ),
      );
      if (holders.length === 0 && fallbacks.length === 0) {
        warnings.push({
          code: "role_unmapped",
          role,
          message: `no eligible reviewer holds or covers ${role}`,
        });
      } else if (holders.length > 0 && !holders.some((c) => c.onShift)) {
        const cover = fallbacks.filter((c) => c.onShift).length;
        warnings.push({
          code: "role_off_shift",
          role,
          message: `no holder of ${role} is on shift (${plural(holders.length, "holder")}, ${plural(cover, "fallback reviewer")} on shift)`,
        });
      }
    }
  }

  if (candidates.length > 0 && capacity(candidates) < need) {
    const distinctShort = req.require_distinct_roles && candidates.length >= need;
    warnings.push(
      distinctShort
        ? {
            code: "distinct_roles_unreachable",
            message: `approvals from ${need} different roles are needed, but the eligible reviewers cover at most ${capacity(candidates)} of them`,
          }
        : {
            code: "quorum_exceeds_eligible",
            message: `${need} approvals are needed but only ${plural(capacity(candidates), "eligible reviewer")} can give them`,
          },
    );
  } else if (candidates.length > 0 && onShift.length === 0) {
    warnings.push({ code: "all_off_shift", message: "every eligible reviewer is off shift" });
  } else if (candidates.length > 0 && capacity(onShift) < need) {
    warnings.push({
      code: "quorum_exceeds_on_shift",
      message: `${need} approvals are needed but only ${plural(capacity(onShift), "eligible reviewer")} on shift can give them`,
    });
  }

  const base = {
    on_shift_capacity: onShiftCapacity,
    fallback_reviewers: fallbackCapacity,
    relevant: covering,
  };
  if (open) return { ...base, state: "open", tier: null, assignees: [], warnings };

  const primary = onShift.filter((c) => c.holds);
  if (primary.length > 0 && capacity(primary) >= need) {
    return {
      ...base,
      state: "routed",
      tier: "primary",
      assignees: primary.map((c) => assignee(c, "primary")),
      warnings,
    };
  }
  // Fallback reviewers first for the roles nobody on shift holds, then for every required role.
  const uncovered = roles.filter((role) => !primary.some((c) => c.reviewer.roles.includes(role)));
  const fallbackOnShift = onShift.filter((c) => !c.holds);
  const firstFallbacks = fallbackOnShift.filter((c) =>
    c.reviewer.fallback_for.some((r) => uncovered.includes(r)),
  );
  for (const fallbacks of [firstFallbacks, fallbackOnShift]) {
    if (fallbacks.length === 0) continue;
    const together = [...primary, ...fallbacks];
    if (capacity(together) >= need) {
      warnings.push({
        code: "fallback_routing",
        message: `routed to ${plural(fallbacks.length, "fallback reviewer")} because the role holders on shift cannot satisfy the quorum`,
      });
      return {
        ...base,
        state: "routed",
        tier: "fallback",
        assignees: [
          ...primary.map((c) => assignee(c, "primary")),
          ...fallbacks.map((c) => assignee(c, "fallback")),
        ],
        warnings,
      };
    }
  }
  const partial = [
    ...primary.map((c) => assignee(c, "primary")),
    ...fallbackOnShift.map((c) => assignee(c, "fallback")),
  ];
  return {
    ...base,
    state: "unroutable",
    tier: fallbackOnShift.length > 0 ? "fallback" : primary.length > 0 ? "primary" : null,
    assignees: partial,
    warnings,
  };
}

/** The routing record a new request carries. */
export function routingRecord(
  plan: RoutingPlan,
  ctx: { now: number; escalateAfterSeconds: number | null },
): RequestRouting {
  const after = ctx.escalateAfterSeconds;
  return {
    state: plan.state,
    tier: plan.tier,
    assignees: plan.assignees,
    warnings: plan.warnings,
    routed_at: new Date(ctx.now).toISOString(),
    escalate_after_seconds: after,
    next_escalation_at: after === null ? null : new Date(ctx.now + after * 1000).toISOString(),
    escalations: 0,
    escalated_at: null,
  };
}
