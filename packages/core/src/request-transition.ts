/*
 * What every step of the request lifecycle shares: the `Transition` each step returns (the next
 * state of the request plus the audit entries that record it), how principals and the server itself
 * appear as audit actors, and the quorum requirements as routing and counting read them off a request.
 */

import type { AuditActor, AuditDraft } from "./audit.ts";
import type { ApprovalRequest, Principal } from "./request-types.ts";
import type { ApprovalRequirements } from "./routing/types.ts";

export function principalActor(p: Principal): AuditActor {
  return { type: "key", key_id: p.key_id, name: p.name, role: p.role };
}

export const SYSTEM_ACTOR: AuditActor = { type: "system", name: "countersign" };

export interface Transition {
  request: ApprovalRequest;
  audit: AuditDraft[];
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
