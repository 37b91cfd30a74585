import { DomainError } from "../errors.ts";
import type { Principal } from "../request-types.ts";
import type { RequesterFacts, RoutingReviewer } from "./types.ts";

/**
 * Who may see and decide a request, and who must not count towards its quorum.
 *
 * - A reviewer key is mapped to a person through the reviewer record that links it (`key_id`).
 * - A request with required roles may be decided by reviewers who hold one of them or cover one as
 *   a fallback. A request without required roles may be decided by any reviewer key.
 * - An admin key may decide any request. Unless it is linked to a reviewer record eligible for the
 *   request, that is an override, and the review and audit entry say so.
 * - Separation of duties: the key that created the request, and the owners of the requesting agent
 *   key, may reject but never approve, choose or answer (they never count towards a quorum). A
 *   person owns an agent key when their reviewer record lists it in `owns_agent_keys`, or when the
 *   key linked to their record is the admin key that issued the agent key (`keys.created_by`).
 */

/** Refused because the responder may not decide this request (visible to them, but not theirs). */
export class NotEligibleError extends DomainError {
  readonly status = 403;
  readonly code = "not_eligible";
}

/** Refused because the responder is the requester or owns the requesting agent key. */
export class SeparationOfDutiesError extends DomainError {
  readonly status = 403;
  readonly code = "separation_of_duties";
}

export type Conflict = "requester" | "agent_owner";

/** Roles a reviewer may act for: the roles they hold and those they cover as a fallback. */
export function coveredRoles(r: Pick<RoutingReviewer, "roles" | "fallback_for">): string[] {
  return [...new Set([...r.roles, ...r.fallback_for])];
}

/** The required roles this reviewer may decide for, in the request's order. */
export function eligibleRoles(
  r: Pick<RoutingReviewer, "roles" | "fallback_for"> | null,
  requiredRoles: readonly string[],
): string[] {
  if (!r) return [];
  const covered = new Set(coveredRoles(r));
  return requiredRoles.filter((role) => covered.has(role));
}

/** Why this person (reviewer record and/or responding key) must not count towards the quorum. */
export function conflictsOf(
  reviewer: Pick<RoutingReviewer, "key_id" | "owns_agent_keys"> | null,
  keyId: string | null,
  requester: RequesterFacts,
): Conflict[] {
  const out: Conflict[] = [];
  const creator = requester.created_by_key_id;
  if ((keyId !== null && keyId === creator) || (reviewer !== null && reviewer.key_id === creator)) {
    out.push("requester");
  }
  if (
    reviewer &&
    (reviewer.owns_agent_keys.includes(creator) ||
      (reviewer.key_id !== null && reviewer.key_id === requester.creator_issued_by))
  ) {
    out.push("agent_owner");
  }
  return out;
}

export interface ResponderAssessment {
  reviewer_id: string | null;
  /** The person's name from their reviewer record. */
  reviewer_name: string | null;
  /** Required roles they decide for (empty for requests without required roles, and for overrides). */
  roles: string[];
  /** An admin deciding without an eligible reviewer record. */
  override: boolean;
  conflicts: Conflict[];
  /** May see the request at all (else it is reported as not found). */
  can_see: boolean;
  /** May record a response (a conflicted responder may still only reject). */
  may_respond: boolean;
}

/** Everything respond needs to know about the caller, from the request, the key and its reviewer record. */
export function assessResponder(
  request: { required_roles: readonly string[]; created_by: Principal },
  by: Principal,
  reviewer: RoutingReviewer | null,
  requester: RequesterFacts,
): ResponderAssessment {
  const open = request.required_roles.length === 0;
  const roles = eligibleRoles(reviewer, request.required_roles);
  const eligibleAsReviewer = open || roles.length > 0;
  const conflicts = conflictsOf(reviewer, by.key_id, requester);
  const base = { reviewer_id: reviewer?.id ?? null, reviewer_name: reviewer?.name ?? null, roles, conflicts };
  switch (by.role) {
    case "agent": {
      const own = by.key_id === request.created_by.key_id;
      return { ...base, override: false, can_see: own, may_respond: false };
    }
    case "admin":
      // A pure admin key (no reviewer record) decides as an override even on open requests: the
      // record is what makes a key a reviewer.
      return {
        ...base,
        override: !(reviewer && eligibleAsReviewer),
        can_see: true,
        may_respond: true,
      };
    case "reviewer":
      return { ...base, override: false, can_see: eligibleAsReviewer, may_respond: eligibleAsReviewer };
  }
}

/** Whether `by` may see the request (agents: their own; reviewers: open or covered roles; admins: all). */
export function canSeeRequest(
  request: { required_roles: readonly string[]; created_by: Principal },
  by: Principal,
  reviewer: Pick<RoutingReviewer, "roles" | "fallback_for"> | null,
): boolean {
  if (by.role === "admin") return true;
  if (by.role === "agent") return by.key_id === request.created_by.key_id;
  return request.required_roles.length === 0 || eligibleRoles(reviewer, request.required_roles).length > 0;
}
