/**
 * Regular expressions in policies run on arguments an agent controls, on JavaScript's backtracking
 * engine. We cannot prove a pattern linear, so we bound the damage instead:
 *
 * - patterns are at most MAX_REGEX_LENGTH characters;
 * - backreferences (`\1`, `\k<name>`) are refused;
 * - nested quantifiers (a repeated group that itself contains a repetition, such as `(a+)+`,
 *   `(\w*,)*` or `(x{1,9}){2,}`) are refused: they are the classic source of exponential time;
 * - repeated alternation (a group repeated more than once, by `*`, `+`, `{n,}`, `{n,m}` with m > 1
 *   or `{n}` with n > 1, that contains a `|` at any depth, such as `(a|a)*b` or `(?:.|.)*!`) is
 *   refused: overlapping branches give the engine exponentially many ways to split the subject.
 *   Use a character class (`[ab]*`) instead;
 * - a value longer than MAX_REGEX_SUBJECT_LENGTH is never tested: evaluation fails closed instead.
 *
 * What remains possible is polynomial blow-up from several unbounded wildcards in a row
 * (`.*a.*b.*c`); the subject cap keeps that bounded. Patterns are unanchored (like `grep`): prefer
 * `drop` to `.*drop.*`.
 *
 * Flags: a leading `(?i)`, `(?m)`, `(?s)` or a combination such as `(?is)` sets the
 * corresponding JavaScript flags, since YAML has no place for a `/…/flags` literal.
 */

export const MAX_REGEX_LENGTH = 512;
export const MAX_REGEX_SUBJECT_LENGTH = 16_384;

export type RegexResult = { regex: RegExp } | { problem: string };

export function compileSafeRegex(source: string): RegexResult {
  if (source.length > MAX_REGEX_LENGTH) {
    return { problem: `a regular expression must be at most ${MAX_REGEX_LENGTH} characters` };
  }
  let pattern = source;
  let flags = "";
  const inline = /^\(\?([imsu]+)\)/.exec(pattern);
  if (inline?.[1]) {
    flags = [...new Set(inline[1])].join("");
    pattern = pattern.slice(inline[0].length);
  }
  const structural = structuralProblem(pattern);
  if (structural !== null) return { problem: structural };
  try {
    return { regex: new RegExp(pattern, flags) };
  } catch (err) {
    return { problem: `invalid regular expression: ${err instanceof Error ? err.message : String(err)}` };
  }
}

interface Group {
  /** The group contains a repetition somewhere inside it. */
  repeats: boolean;
  /** The group contains an alternation `|` somewhere inside it. */
  alternates: boolean;
}

/**
 * Scans the pattern once, tracking groups, to find backreferences, nested quantifiers and
 * repeated alternations.
 */
function structuralProblem(pattern: string): string | null {
  const stack: Group[] = [{ repeats: false, alternates: false }];
  // What the last atom was, so a following quantifier knows whether it repeats a repeating group
  // or a group with alternatives.
  let lastAtomRepeats = false;
  let lastAtomAlternates = false;
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i];
    const top = stack[stack.length - 1] as Group;
    if (c === "\\") {
      const n = pattern[i + 1];
      if (n !== undefined && /[1-9]/.test(n)) return "backreferences are not allowed";
      if (n === "k" && pattern[i + 2] === "<") return "backreferences are not allowed";
      i += 2;
      lastAtomRepeats = false;
      lastAtomAlternates = false;
    } else if (c === "[") {
      i = skipClass(pattern, i);
      lastAtomRepeats = false;
      lastAtomAlternates = false;
    } else if (c === "|") {
      top.alternates = true;
      i++;
      lastAtomRepeats = false;
      lastAtomAlternates = false;
    } else if (c === "(") {
      stack.push({ repeats: false, alternates: false });
      i++;
      // Skip group syntax such as `?:`, `?=`, `?<name>` so it is not read as a quantifier.
      if (pattern[i] === "?") {
        i++;
        if (pattern[i] === "<" && pattern[i + 1] !== "=" && pattern[i + 1] !== "!") {
          const close = pattern.indexOf(">", i);
          i = close === -1 ? pattern.length : close + 1;
        } else i++;
      }
    } else if (c === ")") {
      const closed = stack.length > 1 ? (stack.pop() as Group) : { repeats: false, alternates: false };
      lastAtomRepeats = closed.repeats;
      lastAtomAlternates = closed.alternates;
      const parent = stack[stack.length - 1] as Group;
      if (closed.repeats) parent.repeats = true;
      if (closed.alternates) parent.alternates = true;
      i++;
    } else {
      const q = quantifierAt(pattern, i);
      if (q !== null) {
        if (q.repeats) {
          if (lastAtomRepeats) return "nested quantifiers (such as `(a+)+`) are not allowed";
          top.repeats = true;
        }
        if (q.max > 1 && lastAtomAlternates) {
          return "repeated alternation (such as `(a|b)*`) is not allowed; use a character class such as `[ab]*`";
        }
        i += q.length;
        if (pattern[i] === "?") i++; // lazy modifier
        lastAtomRepeats = false;
        lastAtomAlternates = false;
      } else {
        i++;
        lastAtomRepeats = false;
        lastAtomAlternates = false;
      }
    }
  }
  return null;
}

function skipClass(pattern: string, start: number): number {
  let i = start + 1;
  while (i < pattern.length && pattern[i] !== "]") i += pattern[i] === "\\" ? 2 : 1;
  return i + 1;
}

/**
 * A quantifier at `i`: whether it repeats a variable number of times beyond one, and the most
 * times it repeats its atom.
 */
function quantifierAt(pattern: string, i: number): { length: number; repeats: boolean; max: number } | null {
  const c = pattern[i];
  if (c === "*" || c === "+") return { length: 1, repeats: true, max: Number.POSITIVE_INFINITY };
  if (c === "?") return { length: 1, repeats: false, max: 1 };
  if (c === "{") {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i, i + 24));
    if (!m) return null;
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === "" ? Number.POSITIVE_INFINITY : Number(m[3]);
    // An exact count (`{3}`) offers the engine no choice, so it cannot cause backtracking.
    return { length: m[0].length, repeats: max > 1 && max !== min, max };
  }
  return null;
}
