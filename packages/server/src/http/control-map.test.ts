import { type ControlMap, ManualClock } from "@countersign/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STORAGE_KINDS, startTestServer, type TestServer } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";
import { addReviewer, auditEntries, keyIdOf } from "../testing/reviewers.ts";

const OFFICE = [{ days: ["mon", "tue", "wed", "thu", "fri"], start: "09:00", end: "17:00" }];

describe.each(STORAGE_KINDS)("the Control Map (%s)", (storage) => {
  let s: TestServer;
  let agent: string;
  let otherAgent: string;
  let reviewer: string;
  const clock = new ManualClock(Date.UTC(2026, 0, 7, 12)); // Wednesday 12:00Z

  beforeAll(async () => {
    s = await startTestServer({ storage, clock });
    [agent, otherAgent, reviewer] = await Promise.all([
      s.createKey("agent"),
      s.createKey("agent"),
      s.createKey("reviewer"),
    ]);
    await addReviewer(s, { name: "Paris", roles: ["finance"], timezone: "Europe/Paris", shifts: OFFICE });
    await addReviewer(s, {
      name: "NewYork",
      roles: ["finance", "sre"],
      timezone: "America/New_York",
      shifts: OFFICE,
    });
    await addReviewer(s, {
      name: "Cover",
      fallback_for: ["finance"],
      timezone: "Europe/Paris",
      shifts: OFFICE,
    });
    await addReviewer(s, { name: "Owner", roles: ["finance"], owns_agent_keys: [await keyIdOf(s, agent)] });
  });
  afterAll(() => s.close());

  const map = (roles: string[], approvals = 1, key = agent, extra: Record<string, unknown> = {}) =>
    call<ControlMap & { code?: string }>(s.url, "POST", "/v1/requests/control-map", {
      key,
      body: {
        approval_requirements: { required_roles: roles, required_approvals: approvals },
        metadata: { purpose: "test" },
        ...extra,
      },
    });
  const codes = (m: ControlMap) => m.warnings.map((w) => w.code);

  it("shows who is on shift, who would get fallback routing, and the next shift change", async () => {
    const res = await map(["finance"]);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      satisfiable: true,
      required_roles: ["finance"],
      on_shift_capacity: [{ role: "finance", reviewers: [{ name: "Paris" }], count: 1 }],
      fallback_reviewers: [{ role: "finance", reviewers: [{ name: "Cover" }], count: 1 }],
      next_shift_change: "2026-01-07T14:00:00.000Z", // 09:00 in New York
    });
    // The agent's own owner is never counted, and that is said.
    expect(codes(res.body)).toEqual(["conflicts_excluded"]);
    const forOther = await map(["finance"], 1, otherAgent);
    expect(forOther.body.on_shift_capacity[0]?.count).toBe(2);
    expect(codes(forOther.body)).toEqual([]);
  });

  it("warns when no one holds the role", async () => {
    const res = await map(["legal"]);
    expect(res.body.satisfiable).toBe(false);
    expect(res.body.warnings).toEqual([
      { code: "role_unmapped", role: "legal", message: "no eligible reviewer holds or covers legal" },
    ]);
  });

  it("warns when fewer eligible reviewers exist than the quorum", async () => {
    const res = await map(["finance"], 4);
    expect(res.body.satisfiable).toBe(false);
    expect(codes(res.body)).toEqual(["conflicts_excluded", "quorum_exceeds_eligible"]);
  });

  it("warns when enough reviewers exist but too few are on shift", async () => {
    const res = await map(["finance"], 3);
    expect(res.body.satisfiable).toBe(false);
    expect(codes(res.body)).toEqual(["conflicts_excluded", "quorum_exceeds_on_shift"]);
  });

  it("warns when everyone is off shift", async () => {
    const res = await map(["sre"]);
    expect(res.body.satisfiable).toBe(false);
    expect(codes(res.body)).toEqual(["role_off_shift", "all_off_shift"]);
    expect(res.body.next_shift_change).toBe("2026-01-07T14:00:00.000Z");
  });

  it("warns when approvals from distinct roles cannot be had", async () => {
    const res = await call<ControlMap>(s.url, "POST", "/v1/requests/control-map", {
      key: otherAgent,
      body: {
        approval_requirements: {
          required_roles: ["finance", "legal"],
          required_approvals: 2,
          require_distinct_roles: true,
        },
      },
    });
    expect(res.body.satisfiable).toBe(false);
    expect(codes(res.body)).toEqual(["role_unmapped", "distinct_roles_unreachable"]);
  });

  it("creates nothing and writes nothing", async () => {
    const before = (await auditEntries(s)).length;
    await map(["finance"], 2);
    expect((await auditEntries(s)).length).toBe(before);
  });

  it("lets admins ask on behalf of an agent key, and only admins", async () => {
    const asAgent = await map(["finance"], 1, s.adminKey, { agent_key_id: await keyIdOf(s, agent) });
    expect(codes(asAgent.body)).toEqual(["conflicts_excluded"]);
    expect((await map(["finance"], 1, s.adminKey)).body.on_shift_capacity[0]?.count).toBe(2);
    const spoof = await map(["finance"], 1, otherAgent, { agent_key_id: await keyIdOf(s, agent) });
    expect(spoof.status).toBe(403);
    expect((await map(["finance"], 1, reviewer)).status).toBe(403);
    const unknown = await map(["finance"], 1, s.adminKey, { agent_key_id: "key_missing" });
    expect(unknown.status).toBe(400);
    const bad = await call(s.url, "POST", "/v1/requests/control-map", {
      key: agent,
      body: {
        approval_requirements: { required_roles: ["a"], required_approvals: 2, require_distinct_roles: true },
      },
    });
    expect(bad.status).toBe(400);
  });
});
