import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileGlob } from "./glob.ts";
import { globCovers, globsOverlap } from "./glob-relations.ts";

describe("globsOverlap", () => {
  it.each([
    ["email.*", "email.send", true],
    ["email.*", "email.**", true],
    ["email.*", "**", true],
    ["email.*", "*.send", true],
    ["email.*", "payments.*", false],
    ["email.*", "email.send.bulk", false],
    ["email.**", "email.send.bulk", true],
    ["*", "db.write", false],
    ["*", "?", true],
    ["db.?rite", "db.write", true],
    ["db.?rite", "db..rite", false],
    ["a*b", "*c", false],
    ["a*b", "a**", true],
    ["**.get", "crm.*", true],
    ["**.get", "get", false],
  ])("%s and %s: %s", (a, b, expected) => {
    expect(globsOverlap(a, b)).toBe(expected);
    expect(globsOverlap(b, a)).toBe(expected);
  });
});

describe("globCovers", () => {
  it.each([
    ["**", "email.*", true],
    ["email.**", "email.*", true],
    ["email.*", "email.**", false],
    ["email.*", "email.send", true],
    ["email.*", "email.?end", true],
    ["email.send", "email.*", false],
    ["*", "**", false],
    ["*.send", "email.*", false],
    ["e*", "email.*", false],
    ["e**", "email.*", true],
    ["**.get", "crm.*.get", true],
    ["*?", "?*", true],
    ["a*", "a*b", true],
    ["db.write", "db.write", true],
  ])("%s covers %s: %s", (outer, inner, expected) => {
    expect(globCovers(outer, inner)).toBe(expected);
  });

  it("answers conservatively once the work budget runs out, and shares it across calls", () => {
    // Disjoint and not covering, but only a full exploration can tell.
    expect(globsOverlap("a*.*b", "a*b")).toBe(false);
    expect(globCovers("*b*", "a*a")).toBe(false);
    expect(globCovers("a**", "a*b*c")).toBe(true);
    const spent = { remaining: 0 };
    expect(globsOverlap("a*.*b", "a*b", spent)).toBe(true);
    expect(globCovers("a**", "a*b*c", spent)).toBe(false);
    // Answers that need no exploration stay exact.
    expect(globsOverlap("email.*", "payments.*", spent)).toBe(false);
    expect(globCovers("email.*", "email.send", spent)).toBe(true);
    const budget = { remaining: 1_000_000 };
    const long = "*a".repeat(128);
    expect(globsOverlap(long, `${"a*".repeat(127)}a`, budget)).toBe(true);
    expect(budget.remaining).toBeLessThan(1_000_000);
  });

  it("refuses invalid patterns", () => {
    expect(() => globCovers("a***", "a")).toThrow(/`\*\*\*`/);
    expect(() => globsOverlap("", "a")).toThrow(/empty/);
  });
});

/** Every name up to `length` characters over a small alphabet that exercises every token kind. */
function names(length: number): string[] {
  const out = [""];
  let frontier = [""];
  for (let n = 0; n < length; n++) {
    frontier = frontier.flatMap((prefix) => ["a", "b", ".", "z"].map((c) => prefix + c));
    out.push(...frontier);
  }
  return out;
}

const NAMES = names(5);
const pattern = fc
  .array(fc.constantFrom("a", "b", ".", "*", "**", "?"), { minLength: 1, maxLength: 3 })
  .map((parts) => parts.join(""))
  .filter((p) => !p.includes("***"));

describe("glob relations agree with matching", () => {
  it("never says two globs are disjoint when some name matches both", () => {
    fc.assert(
      fc.property(pattern, pattern, (a, b) => {
        const [ga, gb] = [compileGlob(a), compileGlob(b)];
        const witness = NAMES.find((n) => ga.test(n) && gb.test(n));
        if (witness !== undefined) expect(globsOverlap(a, b)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("never says a glob covers another when some name matches only the inner one", () => {
    fc.assert(
      fc.property(pattern, pattern, (outer, inner) => {
        const [go, gi] = [compileGlob(outer), compileGlob(inner)];
        const outside = NAMES.find((n) => gi.test(n) && !go.test(n));
        if (outside !== undefined) expect(globCovers(outer, inner)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
