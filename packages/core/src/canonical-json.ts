import { ValidationError } from "./errors.ts";

/**
 * RFC 8785 JSON Canonicalization Scheme. Hashes of arguments and audit entries are computed over
 * this form so that any implementation (the SDK in a browser, an auditor's script) gets the same bytes.
 *
 * Written here rather than taken from a package because we must *refuse* what JCS cannot represent
 * (NaN, Infinity, lone surrogates, undefined inside arrays, non-plain objects) instead of silently
 * coercing it: a hash over coerced data would bind an approval to arguments nobody sent.
 */
export function canonicalize(value: unknown): string {
  return serialize(value, "");
}

export class CanonicalizationError extends ValidationError {
  constructor(path: string, message: string) {
    const pointer = path === "" ? "/" : path;
    super(`${pointer}: ${message}`, [{ path: pointer, message }]);
  }
}

function serialize(value: unknown, path: string): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isFinite(value)) throw new CanonicalizationError(path, "numbers must be finite");
      // ECMAScript's Number-to-String is exactly what RFC 8785 §3.2.2.3 prescribes; -0 serialises as 0.
      return JSON.stringify(value);
    case "string":
      assertWellFormed(value, path);
      return JSON.stringify(value);
    case "object": {
      if (Array.isArray(value)) {
        const parts: string[] = [];
        for (let i = 0; i < value.length; i++) {
          parts.push(serialize(value[i], `${path}/${i}`));
        }
        return `[${parts.join(",")}]`;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new CanonicalizationError(path, "only plain JSON objects can be canonicalised");
      }
      const record = value as Record<string, unknown>;
      // Sorting by UTF-16 code units is what RFC 8785 requires, and is what the default sort does.
      const keys = Object.keys(record).sort();
      const parts: string[] = [];
      for (const key of keys) {
        const item = record[key];
        if (item === undefined) continue;
        assertWellFormed(key, path);
        parts.push(`${JSON.stringify(key)}:${serialize(item, `${path}/${escapePointer(key)}`)}`);
      }
      return `{${parts.join(",")}}`;
    }
    default:
      throw new CanonicalizationError(path, `${typeof value} is not a JSON value`);
  }
}

function assertWellFormed(text: string, path: string): void {
  if (!text.isWellFormed()) throw new CanonicalizationError(path, "string contains a lone surrogate");
}

/** RFC 6901 escaping, so error paths are JSON pointers like the schema validator's. */
function escapePointer(key: string): string {
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}
