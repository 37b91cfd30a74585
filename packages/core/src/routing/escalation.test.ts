import { describe, expect, it } from "vitest";
import { createRequest } from "../request-create.ts";
import type { Principal } from "../request-types.ts";
import { type AdminContact, escalateRequest } from "./escalation.ts";
import { OFFICE_HOURS, reviewer } from "./routing.testkit.ts";
import type { RequesterFacts } from "./types.ts";

const agent: Principal = { key_id: "key_agent", name: "bot", role: "agent" };
const requester: RequesterFacts = { created_by_key_id: "key_agent", creator_issued_by: "key_root" };
const admins: AdminContact[] = [{ key_id: "key_root", name: "root", reviewer_id: null }];
const NOON = Date.UTC(2026, 0, 7, 12); // Wednesday
const ann = reviewer("ann", { roles: ["finance"] });
const fay = reviewer("fay", { fallback_for: ["finance"] });

function routed(now = NOON) {
  return createRequest(
    { question: "Pay?", required_roles: ["finance"], escalate_after_seconds: 60 },
    { id: "req_1", now, by: agent, reviewers: [ann, fay], requester },
  ).request;
}

describe("escalation", () => {
  it("waits until escalate_after_seconds have passed", () => {
    const req = routed();
    const ctx = { reviewers: [ann, fay], admins, requester };
    expect(escalateRequest(req, { ...ctx, now: NOON + 59_999 })).toBeNull();
    expect(escalateRequest(req, { ...ctx, now: NOON + 60_000 })).not.toBeNull();
  });

  it("goes primary → fallback → admins, once per tier, then stops", () => {
    const ctx = { reviewers: [ann, fay], admins, requester };
    const first = escalateRequest(routed(), { ...ctx, now: NOON + 60_000 });
    expect(first?.request.routing).toMatchObject({
      tier: "fallback",
      escalations: 1,
      next_escalation_at: new Date(NOON + 120_000).toISOString(),
    });
    expect(first?.audit[0]).toMatchObject({
      kind: "request.escalated",
      actor: { type: "system", name: "escalation" },
      data: { from_tier: "primary", to_tier: "fallback", escalation: 1 },
    });
    expect(first?.audit[0]?.data.added).toEqual([
      {
        reviewer_id: "rvw_fay",
        key_id: "key_fay",
        name: "fay",
        tier: "fallback",
        reason: "covers finance as fallback, on shift (escalated)",
      },
    ]);
    if (!first) return;
    // The same instant again: nothing more is due.
    expect(escalateRequest(first.request, { ...ctx, now: NOON + 60_000 })).toBeNull();
    const second = escalateRequest(first.request, { ...ctx, now: NOON + 120_000 });
    expect(second?.request.routing).toMatchObject({
      tier: "admins",
      escalations: 2,
      next_escalation_at: null,
    });
    expect(second?.audit[0]?.data.added).toEqual([
      { reviewer_id: null, key_id: "key_root", name: "root", tier: "admins", reason: "admin (escalated)" },
    ]);
    if (!second) return;
    expect(escalateRequest(second.request, { ...ctx, now: NOON + 10_000_000 })).toBeNull();
  });

  it("goes straight to the admins when no fallback reviewer is on shift", () => {
    const offShiftFallback = reviewer("fay", {
      fallback_for: ["finance"],
      shifts: [OFFICE_HOURS],
      timezone: "Asia/Tokyo",
    });
    const req = createRequest(
      { question: "?", required_roles: ["finance"], escalate_after_seconds: 60 },
      { id: "req_1", now: NOON, by: agent, reviewers: [ann, offShiftFallback], requester },
    ).request;
    const up = escalateRequest(req, {
      reviewers: [ann, offShiftFallback],
      admins,
      requester,
      now: NOON + 60_000,
    });
    expect(up?.request.routing?.tier).toBe("admins");
  });

  it("escalates open and unroutable requests to the admins", () => {
    const open = createRequest(
      { question: "?", escalate_after_seconds: 5 },
      { id: "req_2", now: NOON, by: agent },
    ).request;
    const up = escalateRequest(open, { reviewers: [], admins, requester, now: NOON + 5000 });
    expect(up?.request.routing).toMatchObject({ state: "open", tier: "admins" });
    const nobody = createRequest(
      { question: "?", required_roles: ["legal"], escalate_after_seconds: 5 },
      { id: "req_3", now: NOON, by: agent },
    ).request;
    const flagged = escalateRequest(nobody, { reviewers: [], admins, requester, now: NOON + 5000 });
    expect(flagged?.request.routing).toMatchObject({ state: "routed", tier: "admins" });
  });

  it("never escalates a decided request or one without escalation", () => {
    const decided = { ...routed(), status: "approved" as const };
    expect(escalateRequest(decided, { reviewers: [], admins, requester, now: NOON + 1e9 })).toBeNull();
    const never = createRequest(
      { question: "?", escalate_after_seconds: null },
      { id: "req_4", now: NOON, by: agent },
    ).request;
    expect(escalateRequest(never, { reviewers: [], admins, requester, now: NOON + 1e12 })).toBeNull();
  });
});

describe("escalation to the admins", () => {
  it("skips an admin who may not approve the request", () => {
    const byAdmin = createRequest(
      { question: "?", escalate_after_seconds: 5 },
      { id: "req_5", now: NOON, by: { key_id: "key_root", name: "root", role: "admin" } },
    ).request;
    const other: AdminContact = { key_id: "key_other", name: "other", reviewer_id: null };
    const up = escalateRequest(byAdmin, {
      reviewers: [],
      admins: [...admins, other],
      requester: { created_by_key_id: "key_root", creator_issued_by: null },
      now: NOON + 5000,
    });
    expect(up?.request.routing?.assignees.map((a) => a.key_id)).toEqual(["key_other"]);
  });
});
