import {
  DAY_MS,
  dayStart,
  type LocalTime,
  localTime,
  parseLocalDateTime,
  wallToInstant,
} from "./local-time.ts";
import type { RoutingReviewer, Shift, ShiftOverride } from "./types.ts";
import { WEEKDAYS } from "./types.ts";

/**
 * Shift evaluation: is a reviewer on shift at an instant, and when does that next change? Pure
 * functions of the instant; every comparison is made on the reviewer's local wall time, so a
 * daylight-saving change never moves a shift (see local-time.ts).
 */

const CLOCK = /^([01]\d|2[0-4]):([0-5]\d)$/;

/** `HH:MM` → minutes since midnight; `24:00` only where `allowMidnightEnd`. Null if malformed. */
export function parseClock(text: string, allowMidnightEnd = false): number | null {
  const m = CLOCK.exec(text);
  if (!m) return null;
  const minutes = Number(m[1]) * 60 + Number(m[2]);
  if (minutes > 1440 || (minutes === 1440 && !allowMidnightEnd)) return null;
  return minutes;
}

interface CompiledShift {
  days: boolean[];
  start: number;
  end: number;
  overnight: boolean;
}

interface CompiledOverride {
  on: boolean;
  from: number;
  to: number;
}

export interface CompiledSchedule {
  timeZone: string;
  shifts: CompiledShift[];
  overrides: CompiledOverride[];
}

function compileShift(shift: Shift): CompiledShift {
  const start = parseClock(shift.start) ?? 0;
  const end = parseClock(shift.end, true) ?? 0;
  const days = WEEKDAYS.map((d) => shift.days.includes(d));
  return { days, start, end, overnight: end <= start };
}

/** The wall-time interval [from, to) an override covers; a bare `to` date includes that whole day. */
export function overrideInterval(o: ShiftOverride): { from: number; to: number } | null {
  const from = parseLocalDateTime(o.from);
  const to = parseLocalDateTime(o.to);
  if (!from || !to) return null;
  return { from: from.wall, to: to.hasTime ? to.wall : to.wall + DAY_MS };
}

// Schedules are compiled once per reviewer object; routing evaluates the same reviewers many times.
const compiled = new WeakMap<object, CompiledSchedule>();

export function compileSchedule(
  r: Pick<RoutingReviewer, "timezone" | "shifts" | "overrides">,
): CompiledSchedule {
  let c = compiled.get(r);
  if (!c) {
    c = {
      timeZone: r.timezone,
      shifts: r.shifts.map(compileShift),
      overrides: r.overrides.flatMap((o) => {
        const i = overrideInterval(o);
        return i ? [{ on: o.kind === "on", ...i }] : [];
      }),
    };
    compiled.set(r, c);
  }
  return c;
}

function shiftCovers(s: CompiledShift, t: LocalTime): boolean {
  if (!s.overnight) return s.days[t.weekday] === true && t.minute >= s.start && t.minute < s.end;
  const yesterday = (t.weekday + 6) % 7;
  return (
    (s.days[t.weekday] === true && t.minute >= s.start) || (s.days[yesterday] === true && t.minute < s.end)
  );
}

function onShiftAtLocal(c: CompiledSchedule, t: LocalTime): boolean {
  let extra = false;
  for (const o of c.overrides) {
    if (t.wall < o.from || t.wall >= o.to) continue;
    if (!o.on) return false; // out of office wins over shifts and extra on-call alike
    extra = true;
  }
  return extra || c.shifts.some((s) => shiftCovers(s, t));
}

export function isOnShift(
  r: Pick<RoutingReviewer, "timezone" | "shifts" | "overrides">,
  instant: number,
): boolean {
  const c = compileSchedule(r);
  return onShiftAtLocal(c, localTime(instant, c.timeZone));
}

/** How far ahead `nextShiftChange` looks at weekly shifts (overrides are looked at wherever they are). */
export const SHIFT_LOOKAHEAD_DAYS = 35;

/**
 * The first instant after `instant` at which the reviewer goes on or off shift, or null if that
 * does not happen within the look-ahead. Candidates are the wall times where a shift or override
 * starts or ends; each is converted to an instant and checked, so overlapping shifts, overrides
 * that mask a shift, and DST gaps all resolve to the moment the answer really changes.
 */
export function nextShiftChange(
  r: Pick<RoutingReviewer, "timezone" | "shifts" | "overrides">,
  instant: number,
  lookaheadDays = SHIFT_LOOKAHEAD_DAYS,
): number | null {
  const c = compileSchedule(r);
  const now = localTime(instant, c.timeZone);
  const current = onShiftAtLocal(c, now);
  const walls = new Set<number>();
  const today = dayStart(now.wall);
  for (let d = -1; d <= lookaheadDays; d++) {
    const day = today + d * DAY_MS;
    const weekday = (now.weekday + 7 + (d % 7)) % 7;
    for (const s of c.shifts) {
      if (!s.days[weekday]) continue;
      walls.add(day + s.start * 60_000);
      walls.add(day + (s.overnight ? DAY_MS : 0) + s.end * 60_000);
    }
  }
  for (const o of c.overrides) {
    walls.add(o.from);
    walls.add(o.to);
  }
  // A wall time up to a day behind may still map to a later instant around a DST change; keep it.
  const sorted = [...walls].filter((w) => w > now.wall - DAY_MS).sort((a, b) => a - b);
  for (const w of sorted) {
    const at = wallToInstant(w, c.timeZone);
    if (at <= instant) continue;
    if (onShiftAtLocal(c, localTime(at, c.timeZone)) !== current) return at;
  }
  return null;
}
