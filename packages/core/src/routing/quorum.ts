import type { ApprovalRequirements, QuorumApprover, QuorumProgress } from "./types.ts";

/**
 * Quorum counting. `required_approvals: N` needs N distinct people: one person counts once however
 * many keys they answer with (a reviewer record is a person; a key without one is its own person).
 * With `require_distinct_roles`, each counted approval must fill a different required role; who
 * fills which is a maximum bipartite matching, so a reviewer holding two roles never blocks another
 * reviewer who holds only one of them.
 */

export interface ApprovalVote {
  key_id: string;
  reviewer_id: string | null;
  name: string;
  /** Required roles the approver may decide for. */
  roles: readonly string[];
  /** Admin overrides may fill any role. */
  override: boolean;
}

/** A person's identity for counting: their reviewer record, else their key. */
export function personOf(vote: { key_id: string; reviewer_id: string | null }): string {
  return vote.reviewer_id ? `reviewer:${vote.reviewer_id}` : `key:${vote.key_id}`;
}

/**
 * Assigns candidates to distinct roles, maximising how many get one (Kuhn's augmenting paths; the
 * inputs are at most a few dozen). Earlier candidates keep their role unless moving them lets a later
 * one in. Returns the role each candidate fills, or null.
 */
export function matchDistinctRoles(
  candidates: ReadonlyArray<{ roles: readonly string[]; any?: boolean }>,
  roles: readonly string[],
): Array<string | null> {
  const owner = new Map<string, number>();
  const options = (i: number): readonly string[] => {
    const c = candidates[i];
    if (!c) return [];
    return c.any ? roles : c.roles.filter((r) => roles.includes(r));
  };
  const assign = (i: number, seen: Set<string>): boolean => {
    for (const role of options(i)) {
      if (seen.has(role)) continue;
      seen.add(role);
      const current = owner.get(role);
      if (current === undefined || assign(current, seen)) {
        owner.set(role, i);
        return true;
      }
    }
    return false;
  };
  candidates.forEach((_, i) => {
    assign(i, new Set());
  });
  const result: Array<string | null> = candidates.map(() => null);
  for (const [role, i] of owner) result[i] = role;
  return result;
}

/** How many of these people could together satisfy the requirements (used by routing too). */
export function quorumCapacity(
  requirements: ApprovalRequirements,
  people: ReadonlyArray<{ roles: readonly string[]; any?: boolean }>,
): number {
  if (!requirements.require_distinct_roles) return people.length;
  return matchDistinctRoles(people, requirements.required_roles).filter((r) => r !== null).length;
}

export function quorumProgress(
  requirements: ApprovalRequirements,
  approvals: ApprovalVote[],
): QuorumProgress {
  const seen = new Set<string>();
  const distinct = approvals.filter((v) => {
    const person = personOf(v);
    if (seen.has(person)) return false;
    seen.add(person);
    return true;
  });
  let approvers: QuorumApprover[];
  let missing: string[] = [];
  if (requirements.require_distinct_roles) {
    const filled = matchDistinctRoles(
      distinct.map((v) => ({ roles: v.roles, any: v.override })),
      requirements.required_roles,
    );
    approvers = distinct.flatMap((v, i) => {
      const role = filled[i];
      return role ? [approver(v, role)] : [];
    });
    const represented = new Set(filled);
    missing = requirements.required_roles.filter((r) => !represented.has(r));
  } else {
    approvers = distinct.map((v) => approver(v, v.roles[0] ?? null));
  }
  const required = requirements.required_approvals;
  return {
    required,
    approvals: approvers.length,
    remaining: Math.max(0, required - approvers.length),
    distinct_roles: requirements.require_distinct_roles,
    approvers,
    missing_roles: missing,
    summary: `${approvers.length} of ${required}`,
  };
}

function approver(v: ApprovalVote, role: string | null): QuorumApprover {
  return { key_id: v.key_id, reviewer_id: v.reviewer_id, name: v.name, role, override: v.override };
}
