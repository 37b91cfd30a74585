/*
 * Tiny shape checkers for server responses: no schema library (the SDK has no dependencies), just
 * parsers of the form `(value, path) => T` that either return a typed value or throw `ShapeError`
 * naming the first offending place, e.g. `$.response.reviews[0].created_at`.
 *
 * They check what the SDK and its callers rely on (types, enums, timestamps) and nothing more, so a
 * server that adds fields or enum-free strings keeps working with an older SDK.
 */

/** The response does not have the promised shape at `path`. */
export class ShapeError extends Error {
  readonly path: string;

  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = "ShapeError";
    this.path = path;
  }
}

export type Parser<T> = (value: unknown, path: string) => T;

function describe(value: unknown): string {
  if (value === undefined) return "nothing (the field is missing)";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

export const str: Parser<string> = (value, path) => {
  if (typeof value !== "string") throw new ShapeError(path, `expected a string, got ${describe(value)}`);
  return value;
};

export const bool: Parser<boolean> = (value, path) => {
  if (typeof value !== "boolean") throw new ShapeError(path, `expected a boolean, got ${describe(value)}`);
  return value;
};

export const int: Parser<number> = (value, path) => {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new ShapeError(path, `expected an integer, got ${describe(value)}`);
  }
  return value;
};

/** Any JSON value; present only to make "this field exists, whatever it holds" explicit. */
export const anything: Parser<unknown> = (value) => value;

/** A JSON object (not null, not an array). */
export const obj: Parser<Record<string, unknown>> = (value, path) => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ShapeError(path, `expected an object, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
};

export function oneOf<const T extends string>(allowed: readonly T[]): Parser<T> {
  return (value, path) => {
    if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
      throw new ShapeError(path, `expected one of ${allowed.join(", ")}, got ${JSON.stringify(value)}`);
    }
    return value as T;
  };
}

export function nullable<T>(parse: Parser<T>): Parser<T | null> {
  return (value, path) => (value === null ? null : parse(value, path));
}

/** A field a server may leave out; `undefined` when absent. */
export function optional<T>(parse: Parser<T>): Parser<T | undefined> {
  return (value, path) => (value === undefined ? undefined : parse(value, path));
}

export function arrayOf<T>(parse: Parser<T>): Parser<T[]> {
  return (value, path) => {
    if (!Array.isArray(value)) throw new ShapeError(path, `expected an array, got ${describe(value)}`);
    return value.map((item, i) => parse(item, `${path}[${i}]`));
  };
}

/** `record[key]` through `parse`, with the path extended to name the field. */
export function field<T>(record: Record<string, unknown>, key: string, parse: Parser<T>, path: string): T {
  return parse(record[key], `${path}.${key}`);
}

// RFC 3339 §5.6 date-time; the "T" and "Z" may be lower case, and any number of fraction digits.
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/**
 * Parses an RFC 3339 timestamp without relying on `Date.parse`, whose leniency differs between
 * engines (some accept "2024-02-30", others extra fraction digits): components are range-checked,
 * so every runtime accepts exactly the same strings. Fractions beyond milliseconds are truncated.
 */
export function parseRfc3339(text: string): Date | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, "0"));
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  // A leap second (:60) is representable in RFC 3339 but not in a Date; it cannot come from a server
  // formatting Dates, so it is refused rather than silently moved.
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (m[8] === undefined) {
    const offsetHours = Number(m[10]);
    const offsetMins = Number(m[11]);
    if (offsetHours > 23 || offsetMins > 59) return undefined;
    offsetMinutes = (m[9] === "-" ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
  // Date.UTC maps years 0–99 to 1900–1999; setUTCFullYear puts them back where they belong.
  const date = new Date(utc);
  if (year < 100) date.setUTCFullYear(date.getUTCFullYear() - 1900);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

export const timestamp: Parser<Date> = (value, path) => {
  const text = str(value, path);
  const date = parseRfc3339(text);
  if (date === undefined)
    throw new ShapeError(path, `expected an RFC 3339 timestamp, got ${JSON.stringify(text)}`);
  return date;
};
