/**
 * Wall-clock time in an IANA timezone, computed with `Intl.DateTimeFormat` from a given instant.
 *
 * Shifts are defined in local wall time, so they are evaluated on wall time: "09:00–17:00" means
 * the clock on the reviewer's wall shows 09:00 to 17:00, on both sides of a daylight-saving change.
 * A "wall" value below is the local date and time encoded as if it were UTC milliseconds; it is only
 * ever compared with other wall values of the same zone, never with instants.
 */

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

export interface LocalTime {
  /** Local date and time as if it were UTC, in ms. */
  wall: number;
  /** 0 = Monday … 6 = Sunday. */
  weekday: number;
  /** Local calendar date, `YYYY-MM-DD`. */
  date: string;
  /** Minutes since local midnight, 0–1439. */
  minute: number;
}

// Building a formatter is far slower than using one; zones are few, so keep one per zone.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

const IANA_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+){0,2}$/;

/**
 * True for a timezone name the runtime knows (`Europe/Paris`, `America/New_York`, `UTC`). Numeric
 * offsets such as `+02:00` are refused: a fixed offset cannot follow daylight-saving changes.
 */
export function isValidTimeZone(name: string): boolean {
  if (name.length > 64 || !IANA_NAME.test(name)) return false;
  try {
    formatter(name);
    return true;
  } catch {
    return false;
  }
}

export function localTime(instant: number, timeZone: string): LocalTime {
  const fields = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of formatter(timeZone).formatToParts(instant)) {
    if (part.type in fields) fields[part.type as keyof typeof fields] = Number(part.value);
  }
  // Some engines still print midnight as 24 with h23; normalise so the date stays right.
  const hour = fields.hour === 24 ? 0 : fields.hour;
  const millis = ((instant % 1000) + 1000) % 1000;
  const dayStart = Date.UTC(fields.year, fields.month - 1, fields.day);
  const wall = dayStart + ((hour * 60 + fields.minute) * 60 + fields.second) * 1000 + millis;
  return {
    wall,
    weekday: (new Date(dayStart).getUTCDay() + 6) % 7,
    date: new Date(dayStart).toISOString().slice(0, 10),
    minute: hour * 60 + fields.minute,
  };
}

function offsetAt(instant: number, timeZone: string): number {
  return localTime(instant, timeZone).wall - instant;
}

/**
 * The first instant at which the zone's wall clock reads `wall` or later. For a wall time that
 * occurs twice (the repeated hour when clocks go back) that is its first occurrence; for one that
 * never occurs (the hour skipped when clocks go forward) it is the moment the clock jumps past it,
 * which is exactly when a shift starting at that skipped time begins.
 */
export function wallToInstant(wall: number, timeZone: string): number {
  // Real zones change offset at most once within a day and a half, so the offsets just before and
  // after cover every candidate.
  const offsets = new Set([
    offsetAt(wall - 1.5 * DAY_MS, timeZone),
    offsetAt(wall, timeZone),
    offsetAt(wall + 1.5 * DAY_MS, timeZone),
  ]);
  const candidates = [...offsets].map((o) => wall - o).sort((a, b) => a - b);
  for (const t of candidates) if (localTime(t, timeZone).wall === wall) return t;
  // Skipped wall time: binary-search the jump between the earliest and latest candidate.
  let lo = candidates[0] ?? wall;
  let hi = candidates[candidates.length - 1] ?? wall;
  if (localTime(hi, timeZone).wall < wall) return hi;
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (localTime(mid, timeZone).wall >= wall) hi = mid;
    else lo = mid;
  }
  return hi;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/;

/** Parses `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM` into a wall value; null if malformed or not a real date. */
export function parseLocalDateTime(text: string): { wall: number; hasTime: boolean } | null {
  const dt = DATE_TIME.exec(text) ?? DATE.exec(text);
  if (!dt) return null;
  const [, y, mo, d, h, mi] = dt;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = h === undefined ? 0 : Number(h);
  const minute = mi === undefined ? 0 : Number(mi);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59) return null;
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  const check = new Date(wall);
  // Date.UTC rolls 2026-02-30 over to March; a date that does not round-trip does not exist.
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day)
    return null;
  return { wall, hasTime: h !== undefined };
}

/** Start of the local day `days` after the one containing `wall`. */
export function dayStart(wall: number, days = 0): number {
  return Math.floor(wall / DAY_MS) * DAY_MS + days * DAY_MS;
}
