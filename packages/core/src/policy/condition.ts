import { describe, isPlainObject } from "./checks.ts";
import { parseConditionShorthand, ShorthandError } from "./condition-parser.ts";
import { compileGetter, type Getter, parseFieldPath } from "./field-path.ts";
import { childPath, PolicyError, ProblemSink } from "./problems.ts";
import { compileSafeRegex, MAX_REGEX_SUBJECT_LENGTH } from "./regex-safety.ts";
import {
  COMPARISON_OPS,
  type ComparisonOp,
  type Condition,
  type PolicyInput,
  type ScalarValue,
} from "./types.ts";

/**
 * Conditions are checked and compiled into closures once, so evaluating one is a few property
 * reads and comparisons. Semantics are type-strict: `>` compares numbers with numbers and strings
 * with strings, never across; a missing field makes every comparison false (including `!=` and
 * `not_in`, which mean "present and different"); nothing here throws on odd input except
 * `matches` on an over-long string, which evaluation turns into a fail-closed deny.
 */

export type ConditionTest = (input: PolicyInput) => boolean;

export interface CompiledCondition {
  /** The normalised structured form (the shorthand parsed), as it goes into the policy document. */
  readonly condition: Condition;
  test(input: PolicyInput): boolean;
}

const MAX_DEPTH = 32;

/**
 * Compiles a condition given as the structured form or the string shorthand; throws a PolicyError
 * listing every problem, with paths under `pathForErrors`. Reused for grants' argument conditions.
 */
export function compileCondition(raw: unknown, pathForErrors = "$"): CompiledCondition {
  const sink = new ProblemSink();
  const compiled = checkCondition(raw, pathForErrors, sink);
  if (!compiled || sink.count > 0) throw new PolicyError(sink.problems, "condition");
  return compiled;
}

/** Checks and compiles, reporting problems to `sink`; undefined when anything was wrong. */
export function checkCondition(
  raw: unknown,
  path: string,
  sink: ProblemSink,
  depth = 0,
): { condition: Condition; test: ConditionTest } | undefined {
  if (depth > MAX_DEPTH) {
    sink.add(path, `conditions nest at most ${MAX_DEPTH} levels deep`);
    return undefined;
  }
  if (typeof raw === "string") {
    let parsed: Condition;
    try {
      parsed = parseConditionShorthand(raw);
    } catch (err) {
      if (!(err instanceof ShorthandError)) throw err;
      sink.add(path, `cannot parse condition ${JSON.stringify(raw)}: ${err.message}`);
      return undefined;
    }
    // The parsed structure is checked like a hand-written one; problems point at the string.
    return checkCondition(parsed, path, sink, depth + 1);
  }
  if (!isPlainObject(raw)) {
    sink.add(path, `expected a condition (a mapping or a string), got ${describe(raw)}`);
    return undefined;
  }
  const keys = Object.keys(raw);
  for (const combinator of ["all", "any", "not"] as const) {
    if (!(combinator in raw)) continue;
    const extra = keys.filter((k) => k !== combinator);
    if (extra.length > 0) {
      for (const k of extra)
        sink.addAtKey(childPath(path, k), `"${combinator}" cannot be combined with "${k}"`);
      return undefined;
    }
    return combinator === "not"
      ? checkNot(raw.not, childPath(path, "not"), sink, depth)
      : checkList(combinator, raw[combinator], childPath(path, combinator), sink, depth);
  }
  return checkComparison(raw, path, sink);
}

function checkNot(raw: unknown, path: string, sink: ProblemSink, depth: number) {
  const inner = checkCondition(raw, path, sink, depth + 1);
  if (!inner) return undefined;
  const test = inner.test;
  return { condition: { not: inner.condition }, test: (input: PolicyInput) => !test(input) };
}

function checkList(kind: "all" | "any", raw: unknown, path: string, sink: ProblemSink, depth: number) {
  if (!Array.isArray(raw) || raw.length === 0) {
    sink.add(path, `"${kind}" takes a non-empty list of conditions`);
    return undefined;
  }
  const parts = raw.map((item, i) => checkCondition(item, childPath(path, i), sink, depth + 1));
  const ok = parts.filter((p) => p !== undefined);
  if (ok.length !== parts.length) return undefined;
  const tests = ok.map((p) => p.test);
  const condition: Condition =
    kind === "all" ? { all: ok.map((p) => p.condition) } : { any: ok.map((p) => p.condition) };
  return { condition, test: kind === "all" ? allOf(tests) : anyOf(tests) };
}

function allOf(tests: ConditionTest[]): ConditionTest {
  const [a, b] = tests;
  if (tests.length === 1 && a) return a;
  if (tests.length === 2 && a && b) return (input) => a(input) && b(input);
  return (input) => {
    for (const t of tests) if (!t(input)) return false;
    return true;
  };
}

function anyOf(tests: ConditionTest[]): ConditionTest {
  const [a, b] = tests;
  if (tests.length === 1 && a) return a;
  if (tests.length === 2 && a && b) return (input) => a(input) || b(input);
  return (input) => {
    for (const t of tests) if (t(input)) return true;
    return false;
  };
}

function isScalar(v: unknown): v is ScalarValue {
  return (
    v === null ||
    typeof v === "string" ||
    typeof v === "boolean" ||
    (typeof v === "number" && Number.isFinite(v))
  );
}

function checkComparison(raw: Record<string, unknown>, path: string, sink: ProblemSink) {
  const before = sink.count;
  for (const k of Object.keys(raw)) {
    if (k !== "field" && k !== "op" && k !== "value") {
      sink.addAtKey(
        childPath(path, k),
        `unknown key "${k}" (a condition has field, op and value, or all/any/not)`,
      );
    }
  }
  const { field, op, value } = raw;
  let getter: Getter | undefined;
  if (typeof field !== "string") {
    sink.add(childPath(path, "field"), field === undefined ? "missing field" : "field must be a string");
  } else {
    const parsed = parseFieldPath(field.trim());
    if ("problem" in parsed) sink.add(childPath(path, "field"), parsed.problem);
    else getter = compileGetter(parsed);
  }
  if (typeof op !== "string" || !(COMPARISON_OPS as readonly string[]).includes(op)) {
    sink.add(childPath(path, "op"), `op must be one of ${COMPARISON_OPS.join(", ")}`);
    return undefined;
  }
  const problem = valueProblem(op as ComparisonOp, value, "value" in raw);
  if (problem !== null) sink.add(childPath(path, "value"), problem);
  if (sink.count > before || getter === undefined || typeof field !== "string") return undefined;

  const condition: Condition =
    value === undefined
      ? { field: field.trim(), op: op as ComparisonOp }
      : { field: field.trim(), op: op as ComparisonOp, value: value as ScalarValue | ScalarValue[] };
  if (op === "matches") {
    const compiled = compileSafeRegex(value as string);
    if ("problem" in compiled) {
      sink.add(childPath(path, "value"), compiled.problem);
      return undefined;
    }
    return { condition, test: matchesTest(getter, compiled.regex, field.trim()) };
  }
  return { condition, test: comparisonTest(getter, op as ComparisonOp, value) };
}

function valueProblem(op: ComparisonOp, value: unknown, present: boolean): string | null {
  switch (op) {
    case "exists":
    case "not_exists":
      return present ? `"${op}" takes no value` : null;
    case "==":
    case "!=":
    case "contains":
      return present && isScalar(value)
        ? null
        : `"${op}" needs a value: a string, a number, true, false or null`;
    case ">":
    case ">=":
    case "<":
    case "<=":
      return (typeof value === "number" && Number.isFinite(value)) || typeof value === "string"
        ? null
        : `"${op}" needs a number or a string`;
    case "in":
    case "not_in":
      if (!Array.isArray(value) || value.length === 0) return `"${op}" needs a non-empty list of values`;
      return value.every(isScalar) ? null : `"${op}" lists only strings, numbers, true, false or null`;
    case "matches":
    case "starts_with":
    case "ends_with":
      return typeof value === "string" ? null : `"${op}" needs a string`;
  }
}

function comparisonTest(get: Getter, op: ComparisonOp, value: unknown): ConditionTest {
  switch (op) {
    case "==":
      return (input) => get(input) === value;
    case "!=":
      return (input) => {
        const x = get(input);
        return x !== undefined && x !== value;
      };
    case ">":
    case ">=":
    case "<":
    case "<=":
      return orderTest(get, op, value as number | string);
    case "in": {
      const set = new Set(value as ScalarValue[]);
      return (input) => set.has(get(input) as ScalarValue);
    }
    case "not_in": {
      const set = new Set(value as ScalarValue[]);
      return (input) => {
        const x = get(input);
        return x !== undefined && !set.has(x as ScalarValue);
      };
    }
    case "exists":
      return (input) => get(input) !== undefined;
    case "not_exists":
      return (input) => get(input) === undefined;
    case "contains":
      if (typeof value === "string") {
        return (input) => {
          const x = get(input);
          if (typeof x === "string") return x.includes(value);
          return Array.isArray(x) && x.includes(value);
        };
      }
      return (input) => {
        const x = get(input);
        return Array.isArray(x) && x.includes(value);
      };
    case "starts_with":
      return (input) => {
        const x = get(input);
        return typeof x === "string" && x.startsWith(value as string);
      };
    case "ends_with":
      return (input) => {
        const x = get(input);
        return typeof x === "string" && x.endsWith(value as string);
      };
    case "matches":
      throw new Error("matches is compiled by matchesTest");
  }
}

function orderTest(get: Getter, op: ">" | ">=" | "<" | "<=", value: number | string): ConditionTest {
  // Same-type only: a string "2000" is not greater than 1000, and a missing field compares false.
  const type = typeof value;
  switch (op) {
    case ">":
      return (input) => {
        const x = get(input);
        return typeof x === type && (x as typeof value) > value;
      };
    case ">=":
      return (input) => {
        const x = get(input);
        return typeof x === type && (x as typeof value) >= value;
      };
    case "<":
      return (input) => {
        const x = get(input);
        return typeof x === type && (x as typeof value) < value;
      };
    case "<=":
      return (input) => {
        const x = get(input);
        return typeof x === type && (x as typeof value) <= value;
      };
  }
}

function matchesTest(get: Getter, regex: RegExp, field: string): ConditionTest {
  return (input) => {
    const x = get(input);
    if (typeof x !== "string") return false;
    if (x.length > MAX_REGEX_SUBJECT_LENGTH) {
      // Refusing is safer than skipping: padding a value must never slip it past a deny rule.
      throw new RangeError(
        `${field} is longer than ${MAX_REGEX_SUBJECT_LENGTH} characters and cannot be tested with "matches"`,
      );
    }
    return regex.test(x);
  };
}
