import { compileGlob, DOT, GLOBSTAR, ONE, STAR, tokenize } from "./glob.ts";

/**
 * Relations between two globs (see glob.ts for the language), decided on their automata rather
 * than by sampling names:
 *
 * - `globsOverlap(a, b)`: some name matches both;
 * - `globCovers(outer, inner)`: every name `inner` matches, `outer` matches too.
 *
 * A glob's automaton has one state per token position. The alphabet that matters is finite: the
 * literal characters of both patterns, the dot, and one stand-in for "any other character" (every
 * such character behaves identically in both patterns).
 *
 * Both explorations are bounded by a work budget (transitions explored), shared across calls when
 * the caller passes one. When it runs out the answer is the conservative one for grant checks:
 * "they may overlap" and "it may not cover".
 */

export interface WorkBudget {
  /** Transitions that may still be explored. */
  remaining: number;
}

/** The budget of a call that is not given one. */
export const DEFAULT_GLOB_WORK = 1_000_000;

/** Any character that is neither a dot nor a literal of either pattern. */
const OTHER = -100;

interface Automaton {
  /** The accepting state (every token consumed); states are 0..end. */
  end: number;
  /** States from the start without reading anything. */
  start: number[];
  /** `next[state * alphabet + char]`: the states after reading that character (closed over stars). */
  next: number[][];
}

/** Builds the automaton of a pattern `compileGlob` accepted, over the shared alphabet. */
function automaton(pattern: string, alphabet: readonly number[]): Automaton {
  const tokens = tokenize(pattern);
  const end = tokens.length;
  // A star may match nothing, so reaching it also reaches the state after it. `***` is not a
  // valid glob, so stars never follow one another and one step of closure is enough.
  const close = (states: number[]): number[] => {
    const out = [...states];
    for (const i of states) {
      const t = tokens[i];
      if (i < end && (t === STAR || t === GLOBSTAR) && !out.includes(i + 1)) out.push(i + 1);
    }
    return out;
  };
  const next: number[][] = [];
  for (let i = 0; i <= end; i++) {
    const t = tokens[i];
    for (const c of alphabet) {
      const to: number[] = [];
      if (i < end) {
        if (t === GLOBSTAR || (t === STAR && c !== DOT)) to.push(i);
        else if (t === c || (t === ONE && c !== DOT)) to.push(i + 1);
      }
      next.push(close(to));
    }
  }
  return { end, start: close([0]), next };
}

function alphabetOf(...patterns: string[]): number[] {
  const chars = new Set<number>([DOT, OTHER]);
  for (const p of patterns) for (const t of tokenize(p)) if (t >= 0) chars.add(t);
  return [...chars];
}

/** The characters before the first wildcard. */
function literalPrefix(pattern: string): string {
  const i = pattern.search(/[*?]/);
  return i === -1 ? pattern : pattern.slice(0, i);
}

/** The characters after the last wildcard. */
function literalSuffix(pattern: string): string {
  const i = Math.max(pattern.lastIndexOf("*"), pattern.lastIndexOf("?"));
  return pattern.slice(i + 1);
}

/** Whether some name matches both globs. */
export function globsOverlap(first: string, second: string, budget?: WorkBudget): boolean {
  // A pattern without wildcards is a single name: just match it.
  const firstGlob = compileGlob(first);
  const secondGlob = compileGlob(second);
  if (firstGlob.exact !== null) return secondGlob.test(firstGlob.exact);
  if (secondGlob.exact !== null) return firstGlob.test(secondGlob.exact);
  // Cheap refutations: every name of each starts with its literal prefix and ends with its suffix.
  const [p1, p2] = [literalPrefix(first), literalPrefix(second)];
  if (!p1.startsWith(p2) && !p2.startsWith(p1)) return false;
  const [s1, s2] = [literalSuffix(first), literalSuffix(second)];
  if (!s1.endsWith(s2) && !s2.endsWith(s1)) return false;

  const work = budget ?? { remaining: DEFAULT_GLOB_WORK };
  const chars = alphabetOf(first, second);
  const k = chars.length;
  const a = automaton(first, chars);
  const b = automaton(second, chars);
  const width = b.end + 1;
  const seen = new Uint8Array((a.end + 1) * width);
  const queue: number[] = [];
  const visit = (i: number, j: number) => {
    const key = i * width + j;
    if (seen[key] === 1) return;
    seen[key] = 1;
    queue.push(key);
  };
  for (const i of a.start) for (const j of b.start) visit(i, j);
  for (let q = 0; q < queue.length; q++) {
    const key = queue[q] as number;
    const i = Math.floor(key / width);
    const j = key % width;
    if (i === a.end && j === b.end) return true;
    work.remaining -= k;
    if (work.remaining < 0) return true;
    for (let c = 0; c < k; c++) {
      const nextB = b.next[j * k + c] as number[];
      if (nextB.length === 0) continue;
      for (const x of a.next[i * k + c] as number[]) for (const y of nextB) visit(x, y);
    }
  }
  return false;
}

/**
 * Whether `outer` matches every name `inner` matches. Explores `inner`'s states paired with the
 * set of states `outer` can be in after the same characters; a pair where `inner` accepts and
 * `outer` cannot is a name that proves the answer false. Every state of a glob can still reach
 * acceptance, so `outer` running out of states while `inner` goes on is such a proof too.
 */
export function globCovers(outer: string, inner: string, budget?: WorkBudget): boolean {
  const outerGlob = compileGlob(outer);
  const innerGlob = compileGlob(inner);
  if (outer === inner) return true;
  // A single name is covered when it matches; a wildcard matches several names, which one name cannot cover.
  if (innerGlob.exact !== null) return outerGlob.test(innerGlob.exact);
  if (outerGlob.exact !== null) return false;
  if (!literalPrefix(inner).startsWith(literalPrefix(outer))) return false;
  if (!literalSuffix(inner).endsWith(literalSuffix(outer))) return false;

  const work = budget ?? { remaining: DEFAULT_GLOB_WORK };
  const chars = alphabetOf(outer, inner);
  const k = chars.length;
  const o = automaton(outer, chars);
  const n = automaton(inner, chars);
  // Sets of outer states, numbered as they are met, with their transitions filled in lazily.
  const sets: number[][] = [];
  const ids = new Map<string, number>();
  const setId = (states: Iterable<number>): number => {
    const sorted = [...new Set(states)].sort((x, y) => x - y);
    const key = sorted.join(",");
    let id = ids.get(key);
    if (id === undefined) {
      id = sets.length;
      sets.push(sorted);
      ids.set(key, id);
    }
    return id;
  };
  const moves = new Map<number, number>();
  const move = (set: number, c: number): number => {
    const key = set * k + c;
    let to = moves.get(key);
    if (to === undefined) {
      to = setId((sets[set] as number[]).flatMap((s) => o.next[s * k + c] as number[]));
      moves.set(key, to);
    }
    return to;
  };
  const width = n.end + 1;
  const seen = new Set<number>();
  const queue: number[] = [];
  const visit = (i: number, set: number) => {
    const key = set * width + i;
    if (seen.has(key)) return;
    seen.add(key);
    queue.push(key);
  };
  const start = setId(o.start);
  for (const i of n.start) visit(i, start);
  for (let q = 0; q < queue.length; q++) {
    const key = queue[q] as number;
    const i = key % width;
    const set = Math.floor(key / width);
    const states = sets[set] as number[];
    if (states.length === 0 || (i === n.end && !states.includes(o.end))) return false;
    work.remaining -= k * (1 + states.length);
    if (work.remaining < 0) return false;
    for (let c = 0; c < k; c++) {
      const nextInner = n.next[i * k + c] as number[];
      if (nextInner.length === 0) continue;
      const to = move(set, c);
      for (const x of nextInner) visit(x, to);
    }
  }
  return true;
}
