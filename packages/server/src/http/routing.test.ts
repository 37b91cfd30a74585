import { type ApprovalRequest, ManualClock } from "@countersign/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STORAGE_KINDS, startTestServer, type TestServer } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";
import { addReviewer, auditEntries } from "../testing/reviewers.ts";

const OFFICE = [{ days: ["mon", "tue", "wed", "thu", "fri"], start: "09:00", end: "17:00" }];

describe.each(STORAGE_KINDS)("routing requests to reviewers on shift (%s)", (storage) => {
  let s: TestServer;
  let agent: string;
  let paris: string; // finance, Paris office hours
  let newYork: string; // finance, New York office hours
  let tokyoNights: string; // fallback for finance, Tokyo nights (crossing midnight)
  let sre: string; // sre only
  let bare: string; // a reviewer key with no reviewer record
  const clock = new ManualClock(Date.UTC(2026, 0, 7, 12)); // Wednesday 12:00Z

  beforeAll(async () => {
    s = await startTestServer({ storage, clock });
    [agent, paris, newYork, tokyoNights, sre, bare] = await Promise.all([
      s.createKey("agent"),
      s.createKey("reviewer"),
      s.createKey("reviewer"),
      s.createKey("reviewer"),
      s.createKey("reviewer"),
      s.createKey("reviewer"),
    ]);
    await addReviewer(s, {
      key: paris,
      name: "Paris",
      roles: ["finance"],
      timezone: "Europe/Paris",
      shifts: OFFICE,
    });
    await addReviewer(s, {
      key: newYork,
      name: "NewYork",
      roles: ["finance"],
      timezone: "America/New_York",
      shifts: OFFICE,
      overrides: [{ kind: "off", from: "2026-03-11", to: "2026-03-11" }],
    });
    await addReviewer(s, {
      key: tokyoNights,
      name: "TokyoNights",
      fallback_for: ["finance"],
      timezone: "Asia/Tokyo",
      shifts: [{ days: ["mon", "tue", "wed", "thu", "fri"], start: "22:00", end: "06:00" }],
    });
    await addReviewer(s, { key: sre, name: "Sre", roles: ["sre"] });
  });
  afterAll(() => s.close());

  const create = (body: Record<string, unknown>) =>
    call<ApprovalRequest>(s.url, "POST", "/v1/requests", { key: agent, body: { question: "Pay?", ...body } });
  const routedAt = async (iso: string, body: Record<string, unknown> = { required_role: "finance" }) => {
    clock.set(Date.parse(iso));
    const res = await create(body);
    expect(res.status).toBe(201);
    return res.body;
  };
  const names = (r: ApprovalRequest) => r.routing?.assignees.map((a) => a.name);

  it("routes to the holders on shift at each shift boundary, in their own timezones", async () => {
    // Wed 08:59:59 Paris (07:59:59Z): nobody holding finance is on shift; Tokyo nights end at 06:00 JST.
    const early = await routedAt("2026-01-07T07:59:59Z");
    expect(early.routing).toMatchObject({ state: "unroutable", tier: null, assignees: [] });
    expect((await routedAt("2026-01-07T08:00:00Z")).routing?.assignees.map((a) => a.name)).toEqual(["Paris"]);
    // 09:00 New York (14:00Z): both.
    expect(names(await routedAt("2026-01-07T14:00:00Z"))).toEqual(["Paris", "NewYork"]);
    // 17:00 Paris (16:00Z): Paris leaves.
    expect(names(await routedAt("2026-01-07T16:00:00Z"))).toEqual(["NewYork"]);
    // 17:00 New York (22:00Z): nobody holds finance on shift; 07:00 in Tokyo is outside the night shift.
    expect((await routedAt("2026-01-07T22:00:00Z")).routing?.state).toBe("unroutable");
  });

  it("falls back at night to the fallback reviewer on a shift that crosses midnight", async () => {
    // Wed 11 March 16:30Z: 17:30 in Paris (gone home), New York out of office all day, and
    // Thu 01:30 in Tokyo, inside the Wednesday night shift that runs 22:00–06:00.
    const r = await routedAt("2026-03-11T16:30:00Z");
    expect(r.routing).toMatchObject({ state: "routed", tier: "fallback" });
    expect(names(r)).toEqual(["TokyoNights"]);
    expect(r.routing?.warnings.map((w) => w.code)).toEqual(["role_off_shift", "fallback_routing"]);
  });

  it("keeps local shift times across the US DST change (8 March 2026)", async () => {
    // Friday 6 March, 14:00Z = 09:00 EST: New York starts.
    expect(names(await routedAt("2026-03-06T13:59:00Z"))).toEqual(["Paris"]);
    expect(names(await routedAt("2026-03-06T14:00:00Z"))).toEqual(["Paris", "NewYork"]);
    // Monday 9 March: 09:00 EDT is 13:00Z, an hour earlier in UTC.
    expect(names(await routedAt("2026-03-09T12:59:00Z"))).toEqual(["Paris"]);
    expect(names(await routedAt("2026-03-09T13:00:00Z"))).toEqual(["Paris", "NewYork"]);
  });

  it("honours an out-of-office override", async () => {
    // Wed 11 March 15:00Z: New York's 11:00, but out of office all day.
    expect(names(await routedAt("2026-03-11T15:00:00Z"))).toEqual(["Paris"]);
    expect(names(await routedAt("2026-03-12T15:00:00Z"))).toEqual(["Paris", "NewYork"]);
  });

  it("creates an unroutable request anyway, with a warning in the response and an audit entry", async () => {
    const r = await routedAt("2026-01-07T12:00:00Z", { required_role: "legal" });
    expect(r.status).toBe("pending");
    expect(r.routing?.state).toBe("unroutable");
    expect(r.routing?.warnings).toEqual([
      { code: "role_unmapped", role: "legal", message: "no eligible reviewer holds or covers legal" },
    ]);
    const trail = await auditEntries(s, r.id);
    expect(trail.map((e) => e.kind)).toEqual(["request.created", "request.unroutable"]);
    const routed = await routedAt("2026-01-07T12:00:00Z");
    const entry = (await auditEntries(s, routed.id))[1];
    expect(entry).toMatchObject({
      kind: "request.routed",
      actor: { type: "system", name: "routing" },
      data: { state: "routed", tier: "primary" },
    });
    expect(entry?.data.assignees).toEqual([
      expect.objectContaining({ name: "Paris", reason: "holds finance, on shift" }),
    ]);
  });

  it("lets reviewers see and decide only requests of roles they hold or cover", async () => {
    const finance = await routedAt("2026-01-07T12:00:00Z");
    const open = await routedAt("2026-01-07T12:00:00Z", {});
    const get = (key: string, id: string) => call(s.url, "GET", `/v1/requests/${id}`, { key });
    expect((await get(sre, finance.id)).status).toBe(404);
    expect((await get(bare, finance.id)).status).toBe(404);
    expect((await get(tokyoNights, finance.id)).status).toBe(200); // covers finance as fallback
    expect((await get(newYork, finance.id)).status).toBe(200); // holds finance, even off shift
    expect((await get(sre, open.id)).status).toBe(200);
    expect((await get(bare, open.id)).status).toBe(200);
    const respond = (key: string, id: string) =>
      call<ApprovalRequest & { code: string }>(s.url, "POST", `/v1/requests/${id}/respond`, {
        key,
        body: { approved: true },
      });
    expect((await respond(sre, finance.id)).status).toBe(404);
    const list = async (key: string) =>
      (
        await call<{ data: ApprovalRequest[] }>(s.url, "GET", "/v1/requests?limit=200", { key })
      ).body.data.map((r) => r.id);
    const sreSees = await list(sre);
    expect(sreSees).toContain(open.id);
    expect(sreSees).not.toContain(finance.id);
    expect(await list(paris)).toEqual(expect.arrayContaining([open.id, finance.id]));
    const decided = await respond(paris, finance.id);
    expect(decided.body.status).toBe("approved");
    expect(decided.body.response?.reviews[0]).toMatchObject({ roles: ["finance"], override: false });
  });

  it("lets an admin decide anything, recorded as an override", async () => {
    const finance = await routedAt("2026-01-07T12:00:00Z");
    const decided = await call<ApprovalRequest>(s.url, "POST", `/v1/requests/${finance.id}/respond`, {
      key: s.adminKey,
      body: { approved: false, comment: "not today" },
    });
    expect(decided.body.status).toBe("rejected");
    expect(decided.body.response?.reviews[0]?.override).toBe(true);
    const recorded = (await auditEntries(s, finance.id)).find((e) => e.kind === "review.recorded");
    expect(recorded?.data.override).toBe(true);
  });
});
