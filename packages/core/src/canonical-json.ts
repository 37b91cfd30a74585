import { ValidationError } from "./errors.ts";

/**
 * RFC 8785 JSON Canonicalization Scheme. Hashes of arguments and audit entries are computed over
 * this form so that any implementation (the SDK in a browser, an auditor's script) gets the same bytes.
 *
 * Written here rather than taken from a package because we must *refuse* what JCS cannot represent
 * (NaN, Infinity, lone surrogates, undefined inside arrays, non-plain objects) instead of silently
 * coercing it: a hash over coerced data would bind an approval to arguments nobody sent.
 *
 * Values nested deeper than MAX_JSON_DEPTH arrays and objects are refused too: serialisation is
 * recursive, and a body of a few hundred kilobytes can nest deep enough to overflow the stack.
 */
export function canonicalize(value: unknown): string {
  try {
    return serialize(value, 0);
  } catch (error) {
    if (error instanceof Unrepresentable) {
      throw new CanonicalizationError(
        `/${error.segments.reverse().map(escapePointer).join("/")}`,
        error.message,
      );
    }
    throw error;
  }
}

export class CanonicalizationError extends ValidationError {
  constructor(path: string, message: string) {
    const pointer = path === "" ? "/" : path;
    super(`${pointer}: ${message}`, [{ path: pointer, message }]);
  }
}

/** How many arrays and objects may enclose one another (the outermost counts as one). */
export const MAX_JSON_DEPTH = 128;

/** Internal: carries the offending value's path up the recursion, built only when something fails. */
class Unrepresentable extends Error {
  readonly segments: string[] = [];
}

function at<T>(segment: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof Unrepresentable) error.segments.push(segment);
    throw error;
  }
}

/** `depth` is how many containers enclose `value`. */
function serialize(value: unknown, depth: number): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isFinite(value)) throw new Unrepresentable("numbers must be finite");
      // ECMAScript's Number-to-String is exactly what RFC 8785 §3.2.2.3 prescribes; -0 serialises as 0.
      return JSON.stringify(value);
    case "string":
      if (!value.isWellFormed()) throw new Unrepresentable("string contains a lone surrogate");
      return JSON.stringify(value);
    case "object": {
      if (depth >= MAX_JSON_DEPTH) {
        throw new Unrepresentable(`values must not be nested more than ${MAX_JSON_DEPTH} levels deep`);
      }
      if (Array.isArray(value)) {
        let out = "[";
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ",";
          const item = value[i];
          out +=
            item === undefined
              ? at(String(i), () => serialize(item, depth + 1))
              : serializeAt(String(i), item, depth + 1);
        }
        return `${out}]`;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new Unrepresentable("only plain JSON objects can be canonicalised");
      }
      const record = value as Record<string, unknown>;
      // Sorting by UTF-16 code units is what RFC 8785 requires, and is what the default sort does.
      const keys = Object.keys(record).sort();
      let out = "{";
      let first = true;
      for (const key of keys) {
        const item = record[key];
        if (item === undefined) continue;
        if (!key.isWellFormed()) throw new Unrepresentable("property name contains a lone surrogate");
        out += `${first ? "" : ","}${JSON.stringify(key)}:${serializeAt(key, item, depth + 1)}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      throw new Unrepresentable(`${typeof value} is not a JSON value`);
  }
}

/** Scalars cannot fail below this level, so only containers pay for the path bookkeeping. */
function serializeAt(segment: string, item: unknown, depth: number): string {
  if (item !== null && typeof item === "object") return at(segment, () => serialize(item, depth));
  if (typeof item === "string" && item.isWellFormed()) return JSON.stringify(item);
  if (typeof item === "number" && Number.isFinite(item)) return JSON.stringify(item);
  if (typeof item === "boolean") return item ? "true" : "false";
  if (item === null) return "null";
  return at(segment, () => serialize(item, depth));
}

/** RFC 6901 escaping, so error paths are JSON pointers like the schema validator's. */
function escapePointer(key: string): string {
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}
