import { ValidationError } from "../errors.ts";
import { planRouting } from "./route.ts";
import { nextShiftChange } from "./schedule.ts";
import type { ApprovalRequirements, ControlMap, RequesterFacts, RoutingReviewer } from "./types.ts";

/**
 * The Control Map: what routing a request with these requirements would do right now, without
 * creating anything — which roles are mapped, who is on shift, who would get fallback routing, when
 * that next changes, and why routing would fail.
 */

/** Checks what a create body's approval fields must satisfy beyond their schema. */
export function validateRequirements(req: ApprovalRequirements, type: string = "approval"): void {
  if (req.required_approvals > 1 && type !== "approval") {
    throw new ValidationError("required_approvals above 1 applies only to approval requests", [
      { path: "/required_approvals", message: "must be 1 unless type is approval" },
    ]);
  }
  if (!req.require_distinct_roles) return;
  if (type !== "approval") {
    throw new ValidationError("require_distinct_roles applies only to approval requests", [
      { path: "/require_distinct_roles", message: "only allowed when type is approval" },
    ]);
  }
  if (req.required_roles.length < req.required_approvals) {
    throw new ValidationError(
      `require_distinct_roles needs at least as many required roles (${req.required_roles.length}) as required approvals (${req.required_approvals})`,
      [
        {
          path: "/require_distinct_roles",
          message: "more approvals than distinct roles can never be satisfied",
        },
      ],
    );
  }
}

export function controlMap(
  req: ApprovalRequirements,
  reviewers: readonly RoutingReviewer[],
  ctx: { now: number; requester: RequesterFacts | null },
): ControlMap {
  const plan = planRouting(req, reviewers, ctx);
  let next: number | null = null;
  for (const r of plan.relevant) {
    const at = nextShiftChange(r, ctx.now);
    if (at !== null && (next === null || at < next)) next = at;
  }
  return {
    satisfiable: plan.state !== "unroutable",
    required_roles: req.required_roles,
    required_approvals: req.required_approvals,
    require_distinct_roles: req.require_distinct_roles,
    on_shift_capacity: plan.on_shift_capacity,
    fallback_reviewers: plan.fallback_reviewers,
    would_route_to: plan.assignees,
    next_shift_change: next === null ? null : new Date(next).toISOString(),
    warnings: plan.warnings,
  };
}
