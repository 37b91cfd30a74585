import { type FieldProblem, ValidationError } from "../errors.ts";

/** One thing wrong with a policy (or fixtures) file, located in the source when it came from one. */
export interface PolicyProblem extends FieldProblem {
  /** 1-based; null when the value did not come from a text source (e.g. a grant sent as JSON). */
  line: number | null;
  column: number | null;
}

/**
 * A policy is rejected whole: this error lists every problem found, not just the first, so an
 * author can fix a file in one pass.
 */
export class PolicyError extends ValidationError {
  override readonly code: string = "invalid_policy";
  readonly problems: PolicyProblem[];

  constructor(unordered: PolicyProblem[], what = "policy") {
    // Reported in source order, which is how an author reads and fixes a file.
    const problems = unordered
      .map((p, i) => ({ p, i }))
      .sort((a, b) => byPosition(a.p, b.p) || a.i - b.i)
      .map((x) => x.p);
    const first = problems[0];
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
    const where = first?.line != null ? ` at line ${first.line}` : "";
    super(
      first ? `invalid ${what}${where}: ${first.path}: ${first.message}${more}` : `invalid ${what}`,
      problems,
    );
    this.problems = problems;
  }
}

function byPosition(a: PolicyProblem, b: PolicyProblem): number {
  const big = Number.MAX_SAFE_INTEGER;
  return (a.line ?? big) - (b.line ?? big) || (a.column ?? big) - (b.column ?? big);
}

export interface SourcePosition {
  line: number;
  column: number;
}

/** Maps a path such as `$.rules[2].match` to where it sits in the source text. */
export type Locator = (path: string, at: "key" | "value") => SourcePosition | null;

export const NO_LOCATOR: Locator = () => null;

/** Collects problems while a document is checked; positions are resolved as they are reported. */
export class ProblemSink {
  readonly problems: PolicyProblem[] = [];
  private readonly locate: Locator;

  constructor(locate: Locator = NO_LOCATOR) {
    this.locate = locate;
  }

  /** Reports a problem about the value at `path`. */
  add(path: string, message: string): void {
    this.push(path, message, this.locate(path, "value"));
  }

  /** Reports a problem about the key that names `path` (an unknown key, say). */
  addAtKey(path: string, message: string): void {
    this.push(path, message, this.locate(path, "key"));
  }

  get count(): number {
    return this.problems.length;
  }

  private push(path: string, message: string, pos: SourcePosition | null): void {
    this.problems.push({ path, message, line: pos?.line ?? null, column: pos?.column ?? null });
  }
}

/** Appends an object key to a path, quoting keys that would not read back unambiguously. */
export function childPath(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/** The path one level up, or null at the root; used to fall back to the nearest located ancestor. */
export function parentPath(path: string): string | null {
  if (path.endsWith("]")) {
    // A quoted key may itself contain brackets, so find the `[` that opens the last segment.
    const open = path.endsWith('"]') ? path.lastIndexOf('["') : path.lastIndexOf("[");
    if (open > 0) return path.slice(0, open);
  }
  const dot = path.lastIndexOf(".");
  if (dot > 0 && !path.slice(dot).includes("]")) return path.slice(0, dot);
  return null;
}

/** The message of anything thrown, without ever throwing itself (a thrown value may be hostile). */
export function errorMessage(err: unknown): string {
  try {
    if (err instanceof Error) return err.message;
    return String(err);
  } catch {
    return "unknown error";
  }
}
