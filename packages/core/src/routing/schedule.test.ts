import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { localTime, wallToInstant } from "./local-time.ts";
import { isOnShift, nextShiftChange, parseClock } from "./schedule.ts";
import type { Shift, ShiftOverride } from "./types.ts";

const WEEKDAYS_9_TO_5: Shift = { days: ["mon", "tue", "wed", "thu", "fri"], start: "09:00", end: "17:00" };
const at = (iso: string) => Date.parse(iso);
const who = (timezone: string, shifts: Shift[], overrides: ShiftOverride[] = []) => ({
  timezone,
  shifts,
  overrides,
});

describe("shift boundaries in several timezones", () => {
  it.each([
    // zone, last instant before 09:00 local, 09:00 local, 17:00 local (all on a Wednesday in January)
    ["America/New_York", "2026-01-07T13:59:59Z", "2026-01-07T14:00:00Z", "2026-01-07T22:00:00Z"],
    ["Europe/Paris", "2026-01-07T07:59:59Z", "2026-01-07T08:00:00Z", "2026-01-07T16:00:00Z"],
    ["Asia/Kolkata", "2026-01-07T03:29:59Z", "2026-01-07T03:30:00Z", "2026-01-07T11:30:00Z"],
    ["Australia/Sydney", "2026-01-06T21:59:59Z", "2026-01-06T22:00:00Z", "2026-01-07T06:00:00Z"],
    ["America/St_Johns", "2026-01-07T12:29:59Z", "2026-01-07T12:30:00Z", "2026-01-07T20:30:00Z"],
    ["UTC", "2026-01-07T08:59:59Z", "2026-01-07T09:00:00Z", "2026-01-07T17:00:00Z"],
  ])("%s: on from 09:00 (inclusive) to 17:00 (exclusive) local", (zone, before, start, end) => {
    const r = who(zone, [WEEKDAYS_9_TO_5]);
    expect(isOnShift(r, at(before))).toBe(false);
    expect(isOnShift(r, at(start))).toBe(true);
    expect(isOnShift(r, at(end) - 1)).toBe(true);
    expect(isOnShift(r, at(end))).toBe(false);
  });

  it("is off at the weekend, whatever the hour", () => {
    const r = who("Europe/Paris", [WEEKDAYS_9_TO_5]);
    expect(isOnShift(r, at("2026-01-10T10:00:00Z"))).toBe(false); // Saturday 11:00 in Paris
    // Monday 00:30 in Sydney is still Sunday in UTC: the local day is what counts.
    const sydney = who("Australia/Sydney", [{ days: ["mon"], start: "00:00", end: "01:00" }]);
    expect(isOnShift(sydney, at("2026-01-11T13:30:00Z"))).toBe(true);
  });

  it("treats 24:00 as midnight at the end of the day", () => {
    const r = who("Europe/Berlin", [{ days: ["tue"], start: "18:00", end: "24:00" }]);
    expect(isOnShift(r, at("2026-01-06T22:59:59Z"))).toBe(true); // Tue 23:59:59 Berlin
    expect(isOnShift(r, at("2026-01-06T23:00:00Z"))).toBe(false); // Wed 00:00 Berlin
  });
});

describe("shifts that cross midnight", () => {
  const nights = who("Asia/Tokyo", [{ days: ["fri"], start: "22:00", end: "06:00" }]);
  it("run into the next day, which belongs to the shift that started the night before", () => {
    expect(isOnShift(nights, at("2026-01-09T12:59:00Z"))).toBe(false); // Fri 21:59 JST
    expect(isOnShift(nights, at("2026-01-09T13:00:00Z"))).toBe(true); // Fri 22:00
    expect(isOnShift(nights, at("2026-01-09T20:59:00Z"))).toBe(true); // Sat 05:59
    expect(isOnShift(nights, at("2026-01-09T21:00:00Z"))).toBe(false); // Sat 06:00
    expect(isOnShift(nights, at("2026-01-10T13:30:00Z"))).toBe(false); // Sat 22:30: not a Friday
    expect(isOnShift(nights, at("2026-01-08T20:00:00Z"))).toBe(false); // Fri 05:00: Thursday was off
  });

  it("accept 00:00 as the end of an evening shift", () => {
    const evening = who("UTC", [{ days: ["mon"], start: "18:00", end: "00:00" }]);
    expect(isOnShift(evening, at("2026-01-05T23:59:00Z"))).toBe(true);
    expect(isOnShift(evening, at("2026-01-06T00:00:00Z"))).toBe(false);
  });
});

describe("daylight-saving changes never shift a shift", () => {
  it("keeps 09:00–17:00 local in New York before and after clocks go forward (8 March 2026)", () => {
    const r = who("America/New_York", [WEEKDAYS_9_TO_5]);
    // Friday before: EST, UTC−5.
    expect(isOnShift(r, at("2026-03-06T13:59:00Z"))).toBe(false);
    expect(isOnShift(r, at("2026-03-06T14:00:00Z"))).toBe(true);
    expect(isOnShift(r, at("2026-03-06T22:00:00Z"))).toBe(false);
    // Monday after: EDT, UTC−4. The same wall times are an hour earlier in UTC.
    expect(isOnShift(r, at("2026-03-09T12:59:00Z"))).toBe(false);
    expect(isOnShift(r, at("2026-03-09T13:00:00Z"))).toBe(true);
    expect(isOnShift(r, at("2026-03-09T20:59:00Z"))).toBe(true);
    expect(isOnShift(r, at("2026-03-09T21:00:00Z"))).toBe(false);
  });

  it("keeps an overnight shift that spans the change in London (25 October 2026, clocks go back)", () => {
    const r = who("Europe/London", [{ days: ["sat"], start: "22:00", end: "06:00" }]);
    expect(isOnShift(r, at("2026-10-24T20:59:00Z"))).toBe(false); // Sat 21:59 BST
    expect(isOnShift(r, at("2026-10-24T21:00:00Z"))).toBe(true); // Sat 22:00 BST
    // The night is an hour longer: it ends at 06:00 GMT, which is 06:00Z.
    expect(isOnShift(r, at("2026-10-25T05:59:00Z"))).toBe(true);
    expect(isOnShift(r, at("2026-10-25T06:00:00Z"))).toBe(false);
  });

  it("keeps the southern hemisphere's change the other way round (Sydney, 5 April 2026)", () => {
    const r = who("Australia/Sydney", [WEEKDAYS_9_TO_5]);
    expect(isOnShift(r, at("2026-04-02T22:00:00Z"))).toBe(true); // Fri 09:00 AEDT (UTC+11)
    expect(isOnShift(r, at("2026-04-02T21:59:00Z"))).toBe(false);
    expect(isOnShift(r, at("2026-04-05T23:00:00Z"))).toBe(true); // Mon 09:00 AEST (UTC+10)
    expect(isOnShift(r, at("2026-04-05T22:59:00Z"))).toBe(false);
  });

  it("starts a shift whose start time is skipped at the moment the clock jumps past it", () => {
    const r = who("America/New_York", [{ days: ["sun"], start: "02:30", end: "04:00" }]);
    expect(isOnShift(r, at("2026-03-08T06:59:59Z"))).toBe(false); // 01:59:59 EST
    expect(isOnShift(r, at("2026-03-08T07:00:00Z"))).toBe(true); // 03:00 EDT
    expect(nextShiftChange(r, at("2026-03-08T06:00:00Z"))).toBe(at("2026-03-08T07:00:00Z"));
  });

  it("starts at 09:00 local on every day of a year, in zones with and without DST", () => {
    for (const zone of ["America/New_York", "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata"]) {
      const r = who(zone, [
        { days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], start: "09:00", end: "17:00" },
      ]);
      for (let day = 0; day < 365; day++) {
        const nine = wallToInstant(Date.UTC(2026, 0, 1 + day, 9), zone);
        expect(localTime(nine, zone).minute).toBe(9 * 60);
        expect(isOnShift(r, nine)).toBe(true);
        expect(isOnShift(r, nine - 1000)).toBe(false);
      }
    }
  });
});

describe("overrides", () => {
  const base = [WEEKDAYS_9_TO_5];
  it("takes an out-of-office reviewer off shift for whole local days", () => {
    const r = who("Europe/Paris", base, [{ kind: "off", from: "2026-01-07", to: "2026-01-08" }]);
    expect(isOnShift(r, at("2026-01-06T10:00:00Z"))).toBe(true); // Tue
    expect(isOnShift(r, at("2026-01-07T10:00:00Z"))).toBe(false); // Wed
    expect(isOnShift(r, at("2026-01-08T15:59:00Z"))).toBe(false); // Thu, last hour: `to` is inclusive
    expect(isOnShift(r, at("2026-01-09T08:00:00Z"))).toBe(true); // Fri 09:00
  });

  it("puts a reviewer on extra on-call for a local time range", () => {
    const r = who("Europe/Paris", base, [{ kind: "on", from: "2026-01-10T20:00", to: "2026-01-11T08:00" }]);
    expect(isOnShift(r, at("2026-01-10T18:59:00Z"))).toBe(false); // Sat 19:59
    expect(isOnShift(r, at("2026-01-10T19:00:00Z"))).toBe(true); // Sat 20:00
    expect(isOnShift(r, at("2026-01-11T06:59:00Z"))).toBe(true); // Sun 07:59
    expect(isOnShift(r, at("2026-01-11T07:00:00Z"))).toBe(false); // Sun 08:00
  });

  it("lets out-of-office win over extra on-call", () => {
    const r = who("UTC", base, [
      { kind: "on", from: "2026-01-10", to: "2026-01-10" },
      { kind: "off", from: "2026-01-10T12:00", to: "2026-01-10T13:00" },
    ]);
    expect(isOnShift(r, at("2026-01-10T11:00:00Z"))).toBe(true);
    expect(isOnShift(r, at("2026-01-10T12:30:00Z"))).toBe(false);
  });
});

describe("next shift change", () => {
  it("skips the weekend and lands on Monday 09:00 local across a DST change", () => {
    const r = who("America/New_York", [WEEKDAYS_9_TO_5]);
    // Friday 6 March 17:30 EST → Monday 9 March 09:00 EDT = 13:00Z.
    expect(nextShiftChange(r, at("2026-03-06T22:30:00Z"))).toBe(at("2026-03-09T13:00:00Z"));
    // During a shift, the next change is its end.
    expect(nextShiftChange(r, at("2026-03-09T15:00:00Z"))).toBe(at("2026-03-09T21:00:00Z"));
  });

  it("sees past an out-of-office that hides shifts", () => {
    const r = who("UTC", [WEEKDAYS_9_TO_5], [{ kind: "off", from: "2026-01-05", to: "2026-01-16" }]);
    expect(nextShiftChange(r, at("2026-01-05T10:00:00Z"))).toBe(at("2026-01-19T09:00:00Z"));
  });

  it("is null for a reviewer who is never on shift", () => {
    expect(nextShiftChange(who("UTC", []), at("2026-01-05T10:00:00Z"))).toBeNull();
  });

  it("is the first instant where the answer changes, and nothing changes before it (property)", () => {
    const zones = [
      "America/New_York",
      "Europe/London",
      "Australia/Sydney",
      "Asia/Kolkata",
      "Pacific/Chatham",
    ];
    const clock = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 15, 30, 45));
    const text = ([h, m]: [number, number]) => `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`;
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.subarray(["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const, { minLength: 1 }),
        clock,
        clock,
        fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2027, 0, 1) }),
        (zone, days, start, end, instant) => {
          fc.pre(text(start) !== text(end));
          const r = who(zone, [{ days: [...days], start: text(start), end: text(end) }]);
          const now = isOnShift(r, instant);
          const next = nextShiftChange(r, instant);
          expect(next).not.toBeNull();
          if (next === null) return;
          expect(next).toBeGreaterThan(instant);
          expect(isOnShift(r, next)).toBe(!now);
          expect(isOnShift(r, next - 1000)).toBe(now);
          for (let i = 1; i < 8; i++) expect(isOnShift(r, instant + ((next - instant) * i) / 8)).toBe(now);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("clock parsing", () => {
  it("accepts HH:MM and 24:00 only as an end", () => {
    expect(parseClock("09:30")).toBe(570);
    expect(parseClock("24:00")).toBeNull();
    expect(parseClock("24:00", true)).toBe(1440);
    expect(parseClock("24:01", true)).toBeNull();
    expect(parseClock("9:30")).toBeNull();
    expect(parseClock("12:60")).toBeNull();
  });
});
