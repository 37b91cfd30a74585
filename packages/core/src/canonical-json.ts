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
  const keys: string[] = [];
  try {
    return serialize(value, 0, keys);
  } catch (error) {
    if (error instanceof Unrepresentable) {
      const segments = keys.slice(0, error.depth);
      throw new CanonicalizationError(`/${segments.map(escapePointer).join("/")}`, error.message);
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

/**
 * Internal: says how many containers enclose the offending value. Its path is read from the `keys`
 * trail (`keys[d]` is the member being serialised at depth `d`) only when something fails, so the
 * common case pays for no closures or path bookkeeping beyond one assignment per member.
 */
class Unrepresentable extends Error {
  readonly depth: number;
  constructor(message: string, depth: number) {
    super(message);
    this.depth = depth;
  }
}

// Property names repeat from one call to the next (every audit entry has the same ones): remember
// how each is quoted. Bounded, and names from callers' data can only fill it, never evict ours.
const quotedNames = new Map<string, string>();
const MAX_QUOTED_NAMES = 4096;

function quoteName(name: string): string {
  let quoted = quotedNames.get(name);
  if (quoted === undefined) {
    quoted = JSON.stringify(name);
    if (name.length <= 64 && quotedNames.size < MAX_QUOTED_NAMES) quotedNames.set(name, quoted);
  }
  return quoted;
}

/** `depth` is how many containers enclose `value`. */
function serialize(value: unknown, depth: number, keys: string[]): string {
  switch (typeof value) {
    case "string":
      if (!value.isWellFormed()) throw new Unrepresentable("string contains a lone surrogate", depth);
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) throw new Unrepresentable("numbers must be finite", depth);
      // ECMAScript's Number-to-String is exactly what RFC 8785 §3.2.2.3 prescribes; -0 serialises as 0.
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "object": {
      if (value === null) return "null";
      if (depth >= MAX_JSON_DEPTH) {
        throw new Unrepresentable(`values must not be nested more than ${MAX_JSON_DEPTH} levels deep`, depth);
      }
      if (Array.isArray(value)) {
        let out = "[";
        for (let i = 0; i < value.length; i++) {
          keys[depth] = String(i);
          if (i > 0) out += ",";
          out += serialize(value[i], depth + 1, keys);
        }
        return `${out}]`;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new Unrepresentable("only plain JSON objects can be canonicalised", depth);
      }
      const record = value as Record<string, unknown>;
      // Sorting by UTF-16 code units is what RFC 8785 requires, and is what the default sort does.
      const names = Object.keys(record).sort();
      let out = "{";
      let first = true;
      for (const name of names) {
        const item = record[name];
        if (item === undefined) continue;
        if (!name.isWellFormed()) throw new Unrepresentable("property name contains a lone surrogate", depth);
        keys[depth] = name;
        if (first) first = false;
        else out += ",";
        out += quoteName(name);
        out += ":";
        out += serialize(item, depth + 1, keys);
      }
      return `${out}}`;
    }
    default:
      throw new Unrepresentable(`${typeof value} is not a JSON value`, depth);
  }
}

/** RFC 6901 escaping, so error paths are JSON pointers like the schema validator's. */
function escapePointer(key: string): string {
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}
