/**
 * RFC 8785 JSON Canonicalization Scheme, for hashing tool arguments exactly as the Countersign
 * server does, so an approval token's `args_hash` can be checked without asking the server.
 *
 * Mirrors @countersign/core's implementation (the SDK has no dependencies, so it cannot import it)
 * and, like it, *refuses* what JCS cannot represent (NaN, Infinity, lone surrogates, non-plain
 * objects) instead of coercing it: a hash over coerced data would match arguments nobody approved.
 * Written without newer built-ins (`String.prototype.isWellFormed`) so it runs on Node 18.
 * Values nested deeper than MAX_JSON_DEPTH arrays and objects are refused, as core refuses them,
 * rather than overflowing the stack.
 */
export function canonicalize(value: unknown): string {
  return serialize(value, "$", 0);
}

/** How many arrays and objects may enclose one another (the outermost counts as one); as in core. */
export const MAX_JSON_DEPTH = 128;

/** The value cannot be canonicalised; `path` says where, e.g. `$.items[2].name`. */
export class CanonicalizationError extends Error {
  readonly code = "invalid_json";
  readonly retryable = false;
  readonly path: string;

  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = "CanonicalizationError";
    this.path = path;
  }
}

/** `depth` is how many containers enclose `value`. */
function serialize(value: unknown, path: string, depth: number): string {
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
      if (depth >= MAX_JSON_DEPTH) {
        throw new CanonicalizationError(
          path,
          `values must not be nested more than ${MAX_JSON_DEPTH} levels deep`,
        );
      }
      if (Array.isArray(value)) {
        const parts: string[] = [];
        for (let i = 0; i < value.length; i++) {
          parts.push(serialize(value[i], `${path}[${i}]`, depth + 1));
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
        parts.push(`${JSON.stringify(key)}:${serialize(item, `${path}.${key}`, depth + 1)}`);
      }
      return `{${parts.join(",")}}`;
    }
    default:
      throw new CanonicalizationError(path, `${typeof value} is not a JSON value`);
  }
}

/** Refuses a high surrogate not followed by a low one, or a low surrogate not preceded by a high one. */
function assertWellFormed(text: string, path: string): void {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0xd800 || unit > 0xdfff) continue;
    const next = text.charCodeAt(i + 1);
    if (unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      i++;
      continue;
    }
    throw new CanonicalizationError(path, "string contains a lone surrogate");
  }
}
