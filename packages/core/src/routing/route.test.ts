import { describe, expect, it } from "vitest";
import { controlMap } from "./control-map.ts";
import { planRouting } from "./route.ts";
import { OFFICE_HOURS, reviewer } from "./routing.testkit.ts";
import type { ApprovalRequirements, RequesterFacts } from "./types.ts";

// Wednesday 7 January 2026, 12:00 UTC: 13:00 in Paris, 07:00 in New York, 21:00 in Tokyo.
const NOON = Date.UTC(2026, 0, 7, 12);
const requester: RequesterFacts = { created_by_key_id: "key_agent", creator_issued_by: "key_admin" };
const needs = (roles: string[], approvals = 1, distinct = false): ApprovalRequirements => ({
  required_roles: roles,
  required_approvals: approvals,
  require_distinct_roles: distinct,
});
const paris = { timezone: "Europe/Paris", shifts: [OFFICE_HOURS] };
const newYork = { timezone: "America/New_York", shifts: [OFFICE_HOURS] };

describe("routing a new request", () => {
  it("goes to the role holders on shift now, and says who and why", () => {
    const ann = reviewer("ann", { roles: ["finance"], ...paris });
    const bob = reviewer("bob", { roles: ["finance"], ...newYork }); // 07:00 in New York: off
    const cy = reviewer("cy", { roles: ["sre"], ...paris });
    const plan = planRouting(needs(["finance"]), [ann, bob, cy], { now: NOON, requester });
    expect(plan.state).toBe("routed");
    expect(plan.tier).toBe("primary");
    expect(plan.assignees).toEqual([
      {
        reviewer_id: "rvw_ann",
        key_id: "key_ann",
        name: "ann",
        roles: ["finance"],
        tier: "primary",
        reason: "holds finance, on shift",
      },
    ]);
    expect(plan.warnings).toEqual([]);
  });

  it("falls back to the role's fallback reviewers when no holder is on shift", () => {
    const bob = reviewer("bob", { roles: ["finance"], ...newYork });
    const fay = reviewer("fay", { fallback_for: ["finance"], ...paris });
    const plan = planRouting(needs(["finance"]), [bob, fay], { now: NOON, requester });
    expect(plan).toMatchObject({ state: "routed", tier: "fallback" });
    expect(plan.assignees.map((a) => [a.name, a.tier])).toEqual([["fay", "fallback"]]);
    expect(plan.warnings.map((w) => w.code)).toEqual(["role_off_shift", "fallback_routing"]);
  });

  it("adds fallbacks when the holders on shift are too few for the quorum", () => {
    const ann = reviewer("ann", { roles: ["finance"], ...paris });
    const fay = reviewer("fay", { fallback_for: ["finance"], ...paris });
    const plan = planRouting(needs(["finance"], 2), [ann, fay], { now: NOON, requester });
    expect(plan).toMatchObject({ state: "routed", tier: "fallback" });
    expect(plan.assignees.map((a) => a.name)).toEqual(["ann", "fay"]);
  });

  it("is unroutable, loudly, when nobody on shift can decide", () => {
    const bob = reviewer("bob", { roles: ["finance"], ...newYork });
    const plan = planRouting(needs(["finance"]), [bob], { now: NOON, requester });
    expect(plan).toMatchObject({ state: "unroutable", tier: null, assignees: [] });
    expect(plan.warnings.map((w) => w.code)).toEqual(["role_off_shift", "all_off_shift"]);
  });

  it("routes at a shift boundary by the reviewer's own clock", () => {
    const bob = reviewer("bob", { roles: ["finance"], ...newYork });
    const nineInNewYork = Date.UTC(2026, 0, 7, 14);
    expect(planRouting(needs(["finance"]), [bob], { now: nineInNewYork - 1, requester }).state).toBe(
      "unroutable",
    );
    expect(planRouting(needs(["finance"]), [bob], { now: nineInNewYork, requester }).state).toBe("routed");
  });

  it("never routes to the requester or an owner of the requesting agent key", () => {
    const owner = reviewer("owner", { roles: ["finance"], owns_agent_keys: ["key_agent"] });
    const issuer = reviewer("issuer", { roles: ["finance"], key_id: "key_admin" });
    const plan = planRouting(needs(["finance"]), [owner, issuer], { now: NOON, requester });
    expect(plan.state).toBe("unroutable");
    expect(plan.warnings.map((w) => w.code)).toEqual(["conflicts_excluded", "role_unmapped"]);
  });

  it("leaves requests without required roles open to any reviewer", () => {
    const plan = planRouting(needs([]), [reviewer("ann", paris)], { now: NOON, requester });
    expect(plan).toMatchObject({ state: "open", tier: null, assignees: [] });
  });

  it("with distinct roles, needs holders of enough different roles on shift", () => {
    const both = reviewer("both", { roles: ["finance", "legal"] });
    const fin = reviewer("fin", { roles: ["finance"] });
    const req = needs(["finance", "legal"], 2, true);
    // One person holding both roles is still one person.
    expect(planRouting(req, [both], { now: NOON, requester }).state).toBe("unroutable");
    // With a finance holder beside them, "both" can fill legal: the matching finds it.
    expect(planRouting(req, [both, fin], { now: NOON, requester }).state).toBe("routed");
    // Two finance holders cannot fill legal.
    const fin2 = reviewer("fin2", { roles: ["finance"] });
    const two = planRouting(req, [fin, fin2], { now: NOON, requester });
    expect(two.state).toBe("unroutable");
    expect(two.warnings.map((w) => w.code)).toContain("distinct_roles_unreachable");
  });
});

describe("the Control Map", () => {
  const ctx = { now: NOON, requester };

  it("maps roles to who is on shift, who would get fallback routing, and when that changes", () => {
    const ann = reviewer("ann", { roles: ["finance"], ...paris });
    const bob = reviewer("bob", { roles: ["finance"], ...newYork });
    const fay = reviewer("fay", { fallback_for: ["finance"], ...paris });
    const map = controlMap(needs(["finance"]), [ann, bob, fay], ctx);
    expect(map).toMatchObject({
      satisfiable: true,
      required_roles: ["finance"],
      on_shift_capacity: [{ role: "finance", reviewers: [{ id: "rvw_ann", name: "ann" }], count: 1 }],
      fallback_reviewers: [{ role: "finance", reviewers: [{ id: "rvw_fay", name: "fay" }], count: 1 }],
      warnings: [],
    });
    // Bob's shift starts at 09:00 New York = 14:00Z, before Paris's 17:00 = 16:00Z.
    expect(map.next_shift_change).toBe("2026-01-07T14:00:00.000Z");
  });

  it("warns when no one holds the role", () => {
    const map = controlMap(needs(["legal"]), [reviewer("ann", { roles: ["finance"] })], ctx);
    expect(map.satisfiable).toBe(false);
    expect(map.warnings).toEqual([
      { code: "role_unmapped", role: "legal", message: "no eligible reviewer holds or covers legal" },
    ]);
  });

  it("warns when fewer eligible reviewers exist than the quorum", () => {
    const map = controlMap(needs(["finance"], 3), [reviewer("ann", { roles: ["finance"] })], ctx);
    expect(map.satisfiable).toBe(false);
    expect(map.warnings.map((w) => w.code)).toEqual(["quorum_exceeds_eligible"]);
    expect(map.warnings[0]?.message).toBe(
      "3 approvals are needed but only 1 eligible reviewer can give them",
    );
  });

  it("warns when everyone is off shift", () => {
    const map = controlMap(needs(["finance"]), [reviewer("bob", { roles: ["finance"], ...newYork })], ctx);
    expect(map.satisfiable).toBe(false);
    expect(map.warnings.map((w) => w.code)).toEqual(["role_off_shift", "all_off_shift"]);
    expect(map.next_shift_change).toBe("2026-01-07T14:00:00.000Z");
  });

  it("warns when enough reviewers exist but too few are on shift", () => {
    const map = controlMap(
      needs(["finance"], 2),
      [
        reviewer("ann", { roles: ["finance"], ...paris }),
        reviewer("bob", { roles: ["finance"], ...newYork }),
      ],
      ctx,
    );
    expect(map.satisfiable).toBe(false);
    expect(map.warnings.map((w) => w.code)).toEqual(["quorum_exceeds_on_shift"]);
  });

  it("counts the requester's own people out, and says so", () => {
    const owner = reviewer("owner", { roles: ["finance"], owns_agent_keys: ["key_agent"] });
    const ann = reviewer("ann", { roles: ["finance"] });
    const map = controlMap(needs(["finance"], 2), [owner, ann], ctx);
    expect(map.satisfiable).toBe(false);
    expect(map.on_shift_capacity[0]?.count).toBe(1);
    expect(map.warnings.map((w) => w.code)).toEqual(["conflicts_excluded", "quorum_exceeds_eligible"]);
  });
});
