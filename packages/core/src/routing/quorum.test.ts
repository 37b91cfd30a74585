import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ApprovalVote, matchDistinctRoles, quorumProgress } from "./quorum.ts";

const vote = (name: string, roles: string[], fields: Partial<ApprovalVote> = {}): ApprovalVote => ({
  key_id: `key_${name}`,
  reviewer_id: `rvw_${name}`,
  name,
  roles,
  override: false,
  ...fields,
});

describe("quorum counting", () => {
  const twoOfFinance = { required_roles: ["finance"], required_approvals: 2, require_distinct_roles: false };

  it("counts distinct people, once each, however many keys they use", () => {
    const ann = vote("ann", ["finance"]);
    const annAgain = vote("ann", ["finance"], { key_id: "key_ann_admin" });
    const progress = quorumProgress(twoOfFinance, [ann, annAgain]);
    expect(progress).toMatchObject({ approvals: 1, remaining: 1, summary: "1 of 2" });
    const bob = vote("bob", ["finance"]);
    expect(quorumProgress(twoOfFinance, [ann, annAgain, bob])).toMatchObject({
      approvals: 2,
      remaining: 0,
      summary: "2 of 2",
      approvers: [
        { key_id: "key_ann", reviewer_id: "rvw_ann", name: "ann", role: "finance", override: false },
        { key_id: "key_bob", reviewer_id: "rvw_bob", name: "bob", role: "finance", override: false },
      ],
    });
  });

  it("treats a key without a reviewer record as its own person", () => {
    const k1 = vote("k1", [], { reviewer_id: null });
    const k2 = vote("k2", [], { reviewer_id: null });
    expect(quorumProgress(twoOfFinance, [k1, k2]).approvals).toBe(2);
  });

  it("with distinct roles, credits each approval to a different role and names the missing ones", () => {
    const req = { required_roles: ["finance", "legal"], required_approvals: 2, require_distinct_roles: true };
    const fin1 = vote("fin1", ["finance"]);
    const fin2 = vote("fin2", ["finance"]);
    expect(quorumProgress(req, [fin1, fin2])).toMatchObject({
      approvals: 1,
      missing_roles: ["legal"],
      summary: "1 of 2",
    });
    const both = vote("both", ["finance", "legal"]);
    const done = quorumProgress(req, [fin1, both]);
    expect(done.approvals).toBe(2);
    expect(done.approvers.map((a) => [a.name, a.role])).toEqual([
      ["fin1", "finance"],
      ["both", "legal"],
    ]);
  });

  it("lets a later approver move an earlier one to another role they hold", () => {
    const req = { required_roles: ["finance", "legal"], required_approvals: 2, require_distinct_roles: true };
    const both = vote("both", ["finance", "legal"]); // takes finance first
    const fin = vote("fin", ["finance"]);
    const progress = quorumProgress(req, [both, fin]);
    expect(progress.approvals).toBe(2);
    expect(Object.fromEntries(progress.approvers.map((a) => [a.name, a.role]))).toEqual({
      both: "legal",
      fin: "finance",
    });
  });

  it("finds a maximum matching (property: never fewer than a greedy assignment, never a role twice)", () => {
    const roles = ["a", "b", "c", "d"];
    fc.assert(
      fc.property(fc.array(fc.subarray(roles), { maxLength: 6 }), (candidates) => {
        const result = matchDistinctRoles(
          candidates.map((r) => ({ roles: r })),
          roles,
        );
        const filled = result.filter((r) => r !== null);
        expect(new Set(filled).size).toBe(filled.length);
        result.forEach((role, i) => {
          if (role !== null) expect(candidates[i]).toContain(role);
        });
        const taken = new Set<string>();
        for (const c of candidates) {
          const free = c.find((r) => !taken.has(r));
          if (free) taken.add(free);
        }
        expect(filled.length).toBeGreaterThanOrEqual(taken.size);
      }),
    );
  });
});
