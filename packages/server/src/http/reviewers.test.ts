import type { Reviewer } from "@countersign/core";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STORAGE_KINDS, startTestServer, type TestServer } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";
import { ALWAYS_ON, addReviewer, auditEntries, keyIdOf } from "../testing/reviewers.ts";

type Problem = { code: string; errors?: Array<{ path: string; message: string }> };

describe.each(STORAGE_KINDS)("reviewers over HTTP (%s)", (storage) => {
  let s: TestServer;
  let agent: string;
  let reviewerKey: string;
  let agentKeyId: string;
  let reviewerKeyId: string;

  beforeAll(async () => {
    s = await startTestServer({ storage });
    [agent, reviewerKey] = await Promise.all([s.createKey("agent"), s.createKey("reviewer")]);
    [agentKeyId, reviewerKeyId] = await Promise.all([keyIdOf(s, agent), keyIdOf(s, reviewerKey)]);
  });
  afterAll(() => s.close());

  const post = (body: unknown, key = s.adminKey) =>
    call<Reviewer & Problem>(s.url, "POST", "/v1/reviewers", { key, body });

  it("creates, reads, changes and deletes a reviewer, auditing each step without contact details", async () => {
    const created = await post({
      name: "Ann Finance",
      roles: ["finance", "finance"],
      fallback_for: ["legal"],
      timezone: "Europe/Paris",
      shifts: [{ days: ["mon", "tue", "wed", "thu", "fri"], start: "09:00", end: "17:00" }],
      overrides: [{ kind: "off", from: "2026-08-01", to: "2026-08-15", note: "holiday" }],
      email: "ann@example.com",
      slack_user_id: "U024BE7LH",
      phone: "+33 1 23 45 67 89",
      key_id: reviewerKeyId,
      owns_agent_keys: [agentKeyId],
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: "Ann Finance",
      roles: ["finance"],
      fallback_for: ["legal"],
      key_id: reviewerKeyId,
      owns_agent_keys: [agentKeyId],
    });
    expect(created.body.id).toMatch(/^rvw_/);
    const id = created.body.id;
    expect((await call(s.url, "GET", `/v1/reviewers/${id}`, { key: s.adminKey })).body).toEqual(created.body);

    const patched = await call<Reviewer>(s.url, "PATCH", `/v1/reviewers/${id}`, {
      key: s.adminKey,
      body: { roles: ["finance", "sre"], phone: null },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ roles: ["finance", "sre"], phone: null, email: "ann@example.com" });

    const deleted = await call(s.url, "DELETE", `/v1/reviewers/${id}`, { key: s.adminKey });
    expect(deleted.status).toBe(200);
    expect((await call(s.url, "GET", `/v1/reviewers/${id}`, { key: s.adminKey })).status).toBe(404);
    expect((await call(s.url, "DELETE", `/v1/reviewers/${id}`, { key: s.adminKey })).status).toBe(404);

    const trail = await auditEntries(s, id);
    expect(trail.map((e) => e.kind)).toEqual(["reviewer.created", "reviewer.updated", "reviewer.deleted"]);
    expect(trail[1]?.data.changed).toEqual(["roles", "phone"]);
    expect(JSON.stringify(trail)).not.toMatch(/example\.com|U024BE7LH|\+33/);
  });

  it("refuses bad timezones, shifts, dates and unknown fields with field paths", async () => {
    const base = { name: "x", roles: ["ops"], timezone: "UTC" };
    const cases: Array<[unknown, string]> = [
      [{ ...base, timezone: "+02:00" }, "/timezone"],
      [{ ...base, timezone: "Mars/Olympus_Mons" }, "/timezone"],
      [{ ...base, shifts: [{ days: ["mon"], start: "9:00", end: "17:00" }] }, "/shifts/0/start"],
      [{ ...base, shifts: [{ days: ["mon"], start: "10:00", end: "10:00" }] }, "/shifts/0"],
      [{ ...base, shifts: [{ days: ["someday"], start: "10:00", end: "11:00" }] }, "/shifts/0/days/0"],
      [{ ...base, overrides: [{ kind: "off", from: "2026-02-30", to: "2026-03-02" }] }, "/overrides/0/from"],
      [{ ...base, email: "not an email" }, "/email"],
      [{ ...base, colour: "blue" }, "/colour"],
      [{ ...base, roles: ["has space"] }, "/roles/0"],
    ];
    for (const [body, path] of cases) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.errors?.map((e) => e.path)).toContain(path);
    }
  });

  it("links only reviewer or admin keys, each to one person, and owned keys must be agent keys", async () => {
    const base = { name: "x", roles: ["ops"], timezone: "UTC" };
    expect((await post({ ...base, key_id: "key_nope" })).body.errors?.[0]?.path).toBe("/key_id");
    expect((await post({ ...base, key_id: agentKeyId })).status).toBe(400);
    expect((await post({ ...base, owns_agent_keys: [reviewerKeyId] })).body.errors?.[0]?.path).toBe(
      "/owns_agent_keys/0",
    );
    const other = await s.createKey("reviewer");
    const first = await addReviewer(s, { key: other, roles: ["ops"] });
    const taken = await post({ ...base, key_id: first.key_id });
    expect(taken.status).toBe(409);
    expect(taken.body.code).toBe("key_already_linked");
    // Two concurrent links of one key: exactly one wins.
    const third = await s.createKey("reviewer");
    const thirdId = await keyIdOf(s, third);
    const raced = await Promise.all([post({ ...base, key_id: thirdId }), post({ ...base, key_id: thirdId })]);
    expect(raced.map((r) => r.status).sort()).toEqual([201, 409]);
  });

  it("lists reviewers by role (holders and fallbacks) with cursor paging", async () => {
    const role = `pager_${storage}`;
    const made: string[] = [];
    for (let i = 0; i < 3; i++) made.push((await addReviewer(s, { name: `p${i}`, roles: [role] })).id);
    made.push((await addReviewer(s, { name: "cover", roles: [], fallback_for: [role] })).id);
    await addReviewer(s, { name: "case", roles: [role.toUpperCase()] });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { data: Reviewer[]; next_cursor: string | null } } = await call(
        s.url,
        "GET",
        `/v1/reviewers?role=${role}&limit=2${cursor ? `&cursor=${cursor}` : ""}`,
        { key: s.adminKey },
      );
      seen.push(...page.body.data.map((r) => r.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(made);
  });

  it("is for admins only", async () => {
    for (const key of [agent, reviewerKey]) {
      expect((await call(s.url, "GET", "/v1/reviewers", { key })).status).toBe(403);
      expect((await post({ name: "x", roles: [], timezone: "UTC", shifts: ALWAYS_ON }, key)).status).toBe(
        403,
      );
    }
    const doc = await call<{ paths: Record<string, unknown> }>(s.url, "GET", "/openapi.json");
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(["/v1/reviewers", "/v1/reviewers/{id}", "/v1/requests/control-map"]),
    );
  });

  it("answers random reviewer bodies with 2xx or 4xx, never 5xx", async () => {
    const field = fc.constantFrom(
      "name",
      "roles",
      "fallback_for",
      "timezone",
      "shifts",
      "overrides",
      "email",
      "key_id",
      "owns_agent_keys",
      "bogus",
    );
    await fc.assert(
      fc.asyncProperty(fc.dictionary(field, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }), async (body) => {
        const res = await post({ name: "n", roles: [], timezone: "UTC", ...body });
        expect(res.status).toBeLessThan(500);
      }),
      { numRuns: 60 },
    );
  });
});
