import { PolicyError } from "./problems.ts";

/**
 * Globs over dot-separated names (tool names such as `payments.refund`, agent ids such as `billing-bot`):
 *
 * - `*`  matches any run of characters except `.` (so it stays within one dot-segment);
 * - `**` matches any run of characters, dots included (any number of segments);
 * - `?`  matches exactly one character except `.`;
 * - every other character matches itself. There is no escaping and no character classes.
 *
 * `payments.*` matches `payments.refund` but not `payments.refund.partial`; `payments.**` matches both.
 * `*` alone matches only dot-free names; use `**` for "every tool".
 *
 * Matching never uses a backtracking regex: the general case runs a set-of-states simulation that
 * is linear in the name's length, so no pattern can make a long name expensive.
 */

export const MAX_GLOB_LENGTH = 256;
/** Longer names are refused rather than matched: callers fail closed on the error. */
export const MAX_GLOB_SUBJECT_LENGTH = 1024;

export interface Glob {
  readonly pattern: string;
  /** The pattern itself when it has no wildcard, so callers can index it as an exact name. */
  readonly exact: string | null;
  test(name: string): boolean;
}

export const DOT = 0x2e;
/** Pattern tokens: a character code, or one of these wildcards. */
export const STAR = -1;
export const GLOBSTAR = -2;
export const ONE = -3;

/** Why `pattern` is not a valid glob, or null when it is. */
export function globProblem(pattern: string): string | null {
  if (pattern.length === 0) return "a glob must not be empty";
  if (pattern.length > MAX_GLOB_LENGTH) return `a glob must be at most ${MAX_GLOB_LENGTH} characters`;
  if (pattern.includes("***")) return "`***` is not a glob operator (use `*` or `**`)";
  if (!pattern.isWellFormed()) return "a glob must not contain a lone surrogate";
  return null;
}

export function compileGlob(pattern: string): Glob {
  const problem = globProblem(pattern);
  if (problem !== null) {
    throw new PolicyError([{ path: "$", message: problem, line: null, column: null }], "glob");
  }
  return { pattern, exact: hasWildcard(pattern) ? null : pattern, test: matcher(pattern) };
}

function hasWildcard(pattern: string): boolean {
  return pattern.includes("*") || pattern.includes("?");
}

/** Returns the name, or throws for one too long to match: callers fail closed on the error. */
function guarded(name: string): string {
  if (name.length > MAX_GLOB_SUBJECT_LENGTH) {
    throw new RangeError(`name longer than ${MAX_GLOB_SUBJECT_LENGTH} characters cannot be matched`);
  }
  return name;
}

function matcher(pattern: string): (name: string) => boolean {
  if (!hasWildcard(pattern)) return (name) => name === pattern;

  // The common shapes get a string-method fast path: `prefix*`, `prefix**`, `*suffix`, `**suffix`.
  const body = pattern.replace(/^\*\*?|\*\*?$/g, "");
  if (!hasWildcard(body)) {
    if (pattern === `${body}**`) return (name) => guarded(name).startsWith(body);
    if (pattern === `**${body}`) return (name) => guarded(name).endsWith(body);
    if (pattern === `${body}*`) {
      return (name) => guarded(name).startsWith(body) && name.indexOf(".", body.length) === -1;
    }
    if (pattern === `*${body}`) {
      return (name) => {
        guarded(name);
        if (!name.endsWith(body)) return false;
        const head = name.length - body.length;
        for (let i = 0; i < head; i++) if (name.charCodeAt(i) === DOT) return false;
        return true;
      };
    }
  }
  return stateMachine(tokenize(pattern));
}

/** The pattern as tokens: character codes and the wildcard constants above. */
export function tokenize(pattern: string): Int32Array {
  const tokens: number[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charCodeAt(i);
    if (c === 0x2a /* * */) {
      if (pattern.charCodeAt(i + 1) === 0x2a) {
        tokens.push(GLOBSTAR);
        i++;
      } else tokens.push(STAR);
    } else if (c === 0x3f /* ? */) tokens.push(ONE);
    else tokens.push(c);
  }
  return Int32Array.from(tokens);
}

/**
 * Simulates the pattern's automaton: state `i` means "the first i tokens are matched". Cost is
 * O(name length × pattern length), with no backtracking. The two state buffers are reused across
 * calls (matching is synchronous and never re-entered).
 */
function stateMachine(tokens: Int32Array): (name: string) => boolean {
  const m = tokens.length;
  let cur = new Uint8Array(m + 1);
  let next = new Uint8Array(m + 1);
  const closeOverStars = (states: Uint8Array): void => {
    // A star may match nothing, so reaching it also reaches the state after it.
    for (let i = 0; i < m; i++) {
      const t = tokens[i];
      if (states[i] === 1 && (t === STAR || t === GLOBSTAR)) states[i + 1] = 1;
    }
  };
  return (name) => {
    guarded(name);
    cur.fill(0);
    cur[0] = 1;
    closeOverStars(cur);
    for (let j = 0; j < name.length; j++) {
      const c = name.charCodeAt(j);
      next.fill(0);
      let alive = false;
      for (let i = 0; i < m; i++) {
        if (cur[i] !== 1) continue;
        const t = tokens[i];
        if (t === GLOBSTAR || (t === STAR && c !== DOT)) {
          next[i] = 1;
          alive = true;
        } else if (t === c || (t === ONE && c !== DOT)) {
          next[i + 1] = 1;
          alive = true;
        }
      }
      if (!alive) return false;
      closeOverStars(next);
      const swap = cur;
      cur = next;
      next = swap;
    }
    return cur[m] === 1;
  };
}
