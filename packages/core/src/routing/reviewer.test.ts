import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.ts";
import { buildReviewer, changedFields, patchReviewer, reviewerAuditData } from "./reviewer.ts";

const now = Date.UTC(2026, 0, 1);
const valid = {
  name: "Ann",
  roles: ["finance", "finance", "sre"],
  timezone: "Europe/Paris",
  shifts: [{ days: ["fri" as const, "mon" as const], start: "09:00", end: "17:00" }],
  email: "ann@example.com",
};

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ValidationError) return (error.errors ?? []).map((e) => e.path);
    throw error;
  }
  return [];
}

describe("reviewer records", () => {
  it("normalise roles and days and fill defaults", () => {
    const r = buildReviewer(valid, { id: "rvw_1", now });
    expect(r).toMatchObject({
      id: "rvw_1",
      roles: ["finance", "sre"],
      fallback_for: [],
      shifts: [{ days: ["mon", "fri"], start: "09:00", end: "17:00" }],
      overrides: [],
      slack_user_id: null,
      key_id: null,
      owns_agent_keys: [],
      created_at: "2026-01-01T00:00:00.000Z",
    });
  });

  it("refuse fixed offsets, unknown zones, empty or zero-length shifts and impossible dates", () => {
    expect(problems(() => buildReviewer({ ...valid, timezone: "+02:00" }, { id: "x", now }))).toEqual([
      "/timezone",
    ]);
    expect(problems(() => buildReviewer({ ...valid, timezone: "Mars/Olympus" }, { id: "x", now }))).toEqual([
      "/timezone",
    ]);
    expect(
      problems(() =>
        buildReviewer(
          {
            ...valid,
            shifts: [
              { days: [], start: "09:00", end: "10:00" },
              { days: ["mon"], start: "09:00", end: "09:00" },
              { days: ["mon"], start: "24:00", end: "10:00" },
            ],
          },
          { id: "x", now },
        ),
      ),
    ).toEqual(["/shifts/0/days", "/shifts/1", "/shifts/2/start"]);
    expect(
      problems(() =>
        buildReviewer(
          {
            ...valid,
            overrides: [
              { kind: "off", from: "2026-02-30", to: "2026-03-01" },
              { kind: "on", from: "2026-03-02T10:00", to: "2026-03-02T09:00" },
            ],
          },
          { id: "x", now },
        ),
      ),
    ).toEqual(["/overrides/0/from", "/overrides/1"]);
  });

  it("patch only what is given; null clears a contact", () => {
    const r = buildReviewer(valid, { id: "rvw_1", now });
    const p = patchReviewer(r, { roles: ["legal"], email: null }, now + 1000);
    expect(p).toMatchObject({
      roles: ["legal"],
      email: null,
      timezone: "Europe/Paris",
      created_at: r.created_at,
    });
    expect(p.updated_at).toBe("2026-01-01T00:00:01.000Z");
    expect(changedFields(r, p)).toEqual(["roles", "email"]);
  });

  it("keep contact details out of the audit log", () => {
    const data = reviewerAuditData(
      buildReviewer({ ...valid, phone: "+33 1 23 45 67 89" }, { id: "rvw_1", now }),
    );
    expect(JSON.stringify(data)).not.toMatch(/example\.com|\+33/);
  });
});
