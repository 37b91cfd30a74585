import { describe, expect, it } from "vitest";
import { compileSafeRegex, MAX_REGEX_LENGTH } from "./regex-safety.ts";

function problem(pattern: string): string | null {
  const r = compileSafeRegex(pattern);
  return "problem" in r ? r.problem : null;
}

describe("compileSafeRegex", () => {
  it.each([
    "@example\\.com$",
    "(?i)\\bdrop\\b",
    "^(get|list)_",
    "(a|b)?c",
    "^[ab]+$",
    "[a-z]+@[a-z]+\\.[a-z]{2,}",
    "(\\d+){3}",
    "(ab)?c*",
    "(?:x|y)z*",
    "a|b*",
    "(?:\\|)*",
    "[|]+",
    "(?<word>\\w+)-",
    "(?<=a)b",
    "[(+*]+",
  ])("accepts %s", (pattern) => {
    expect(problem(pattern)).toBeNull();
  });

  it.each([
    ["(a+)+", /nested quantifiers/],
    ["(a*)*b", /nested quantifiers/],
    ["(\\w*,)*", /nested quantifiers/],
    ["((ab)+c)+", /nested quantifiers/],
    ["(x{1,9}){2,}", /nested quantifiers/],
    ["(.*a){2,5}", /nested quantifiers/],
    // Repeated alternation: overlapping branches backtrack exponentially.
    ["(?:a|a)*!", /repeated alternation/],
    ["(a|a)*b", /repeated alternation/],
    ["(?:.|.)*!", /repeated alternation/],
    ["^(a|b)+$", /repeated alternation/],
    ["(?:x|y)*z", /repeated alternation/],
    ["(a|aa){2,}", /repeated alternation/],
    ["(a|b){1,5}", /repeated alternation/],
    ["(a|a){30}!", /repeated alternation/],
    ["((a|a)b)*", /repeated alternation/],
    ["(?:x(?:a|a))+", /repeated alternation/],
    ["(?<n>a|b)+?", /repeated alternation/],
    ["(a)\\1", /backreferences/],
    ["(?<n>a)\\k<n>", /backreferences/],
    ["(unclosed", /invalid regular expression/],
    ["a{2,1}", /invalid regular expression/],
  ])("refuses %s", (pattern, message) => {
    expect(problem(pattern)).toMatch(message);
  });

  it("caps the pattern length", () => {
    expect(problem("a".repeat(MAX_REGEX_LENGTH))).toBeNull();
    expect(problem("a".repeat(MAX_REGEX_LENGTH + 1))).toMatch(/at most/);
  });

  it("turns a leading (?i) into the i flag", () => {
    const r = compileSafeRegex("(?i)^drop$");
    if (!("regex" in r)) throw new Error("expected a regex");
    expect(r.regex.flags).toBe("i");
    expect(r.regex.test("DROP")).toBe(true);
    const plain = compileSafeRegex("^drop$");
    if (!("regex" in plain)) throw new Error("expected a regex");
    expect(plain.regex.test("DROP")).toBe(false);
  });

  it("combines inline flags", () => {
    const r = compileSafeRegex("(?is)a.b");
    if (!("regex" in r)) throw new Error("expected a regex");
    expect(r.regex.flags).toBe("is");
    expect(r.regex.test("A\nB")).toBe(true);
  });
});
