import { childPath, type ProblemSink } from "./problems.ts";

/**
 * Small readers used to check a parsed document. Each reports what is wrong to the sink and
 * returns `undefined` for a missing or bad value, so checking carries on and every problem in a file
 * is reported at once.
 */

export type PlainObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is PlainObject {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return isPlainObject(value) ? "a mapping" : "a non-JSON value";
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}

/** Checks that `value` is a mapping with only `allowed` keys and every `required` one. */
export function checkObject(
  value: unknown,
  path: string,
  sink: ProblemSink,
  allowed: readonly string[],
  required: readonly string[] = [],
): PlainObject | undefined {
  if (!isPlainObject(value)) {
    sink.add(path, `expected a mapping, got ${describe(value)}`);
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      sink.addAtKey(childPath(path, key), `unknown key "${key}" (expected one of: ${allowed.join(", ")})`);
    }
  }
  for (const key of required) {
    if (value[key] === undefined) sink.add(path, `missing required key "${key}"`);
  }
  return value;
}

export interface StringRules {
  maxLength?: number;
  pattern?: RegExp;
  patternHint?: string;
  oneOf?: readonly string[];
}

export function readString(
  value: unknown,
  path: string,
  sink: ProblemSink,
  rules: StringRules = {},
): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") {
    sink.add(path, `expected a string, got ${describe(value)}`);
    return undefined;
  }
  if (rules.oneOf && !rules.oneOf.includes(value)) {
    sink.add(path, `expected one of ${rules.oneOf.join(", ")}, got ${JSON.stringify(value)}`);
    return undefined;
  }
  if (value.length === 0) {
    sink.add(path, "must not be empty");
    return undefined;
  }
  if (rules.maxLength !== undefined && value.length > rules.maxLength) {
    sink.add(path, `must be at most ${rules.maxLength} characters`);
    return undefined;
  }
  if (!value.isWellFormed()) {
    sink.add(path, "contains a lone surrogate");
    return undefined;
  }
  if (rules.pattern && !rules.pattern.test(value)) {
    sink.add(path, rules.patternHint ?? `must match ${rules.pattern}`);
    return undefined;
  }
  return value;
}

export function readInteger(
  value: unknown,
  path: string,
  sink: ProblemSink,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    sink.add(path, `expected an integer, got ${describe(value)}`);
    return undefined;
  }
  if (value < min || value > max) {
    sink.add(path, `must be between ${min} and ${max}`);
    return undefined;
  }
  return value;
}

export function readNumber(value: unknown, path: string, sink: ProblemSink, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    sink.add(path, `expected a number, got ${describe(value)}`);
    return undefined;
  }
  if (value < min) {
    sink.add(path, `must be at least ${min}`);
    return undefined;
  }
  return value;
}

/** A string or a non-empty list of distinct strings, always returned as a list. */
export function readStringList(
  value: unknown,
  path: string,
  sink: ProblemSink,
  rules: StringRules = {},
): string[] | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string") {
    const one = readString(value, path, sink, rules);
    return one === undefined ? undefined : [one];
  }
  if (!Array.isArray(value)) {
    sink.add(path, `expected a string or a list of strings, got ${describe(value)}`);
    return undefined;
  }
  if (value.length === 0) {
    sink.add(path, "must not be an empty list");
    return undefined;
  }
  const out: string[] = [];
  let ok = true;
  value.forEach((item, i) => {
    const s = readString(item, childPath(path, i), sink, rules);
    if (s === undefined) ok = false;
    else if (out.includes(s)) {
      sink.add(childPath(path, i), `duplicate entry ${JSON.stringify(s)}`);
      ok = false;
    } else out.push(s);
  });
  return ok ? out : undefined;
}
