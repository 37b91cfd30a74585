import { describe, expect, it } from "vitest";
import { compileGlob, globProblem, MAX_GLOB_SUBJECT_LENGTH } from "./glob.ts";
import { PolicyError } from "./problems.ts";

const cases: Array<[pattern: string, name: string, matches: boolean]> = [
  ["db.write", "db.write", true],
  ["db.write", "db.writes", false],
  ["db.write", "xdb.write", false],
  ["payments.*", "payments.refund", true],
  ["payments.*", "payments.", true],
  ["payments.*", "payments.refund.partial", false],
  ["payments.*", "payments", false],
  ["payments.**", "payments.refund.partial", true],
  ["payments.**", "payments.refund", true],
  ["payments.**", "paymentsx.refund", false],
  ["*", "search", true],
  ["*", "db.write", false],
  ["**", "db.write", true],
  ["**", "", true],
  ["*.get", "crm.get", true],
  ["*.get", "crm.contacts.get", false],
  ["**.get", "crm.contacts.get", true],
  ["**.get", "get", false],
  ["*.bulk_*", "crm.bulk_delete", true],
  ["*.bulk_*", "a.b.bulk_delete", false],
  ["**.bulk_*", "a.b.bulk_delete", true],
  ["**.bulk_*", "a.bulk_x.y", false],
  ["billing-*", "billing-bot", true],
  ["billing-*", "billing-", true],
  ["billing-*", "support-bot", false],
  ["db.?rite", "db.write", true],
  ["db.?rite", "db..rite", false],
  ["db.?rite", "db.rite", false],
  ["a*b*c", "abc", true],
  ["a*b*c", "axxbyyc", true],
  ["a*b*c", "axx.byyc", false],
  ["a**b*c", "ax.x.byyc", true],
  ["a**b*c", "ax.x.by.c", false],
  ["*a*", "bab", true],
  ["*a*", "b.a", false],
  ["**a**", "x.y.a.z", true],
];

describe("compileGlob", () => {
  it.each(cases)("%s against %s is %s", (pattern, name, matches) => {
    expect(compileGlob(pattern).test(name)).toBe(matches);
  });

  it("reports the exact name of a wildcard-free pattern so it can be indexed", () => {
    expect(compileGlob("db.write").exact).toBe("db.write");
    expect(compileGlob("db.*").exact).toBeNull();
    expect(compileGlob("db.?").exact).toBeNull();
  });

  it("refuses empty, over-long and triple-star patterns", () => {
    expect(globProblem("")).toMatch(/empty/);
    expect(globProblem("a".repeat(300))).toMatch(/at most/);
    expect(globProblem("a***")).toMatch(/\*\*\*/);
    expect(() => compileGlob("***")).toThrow(PolicyError);
  });

  it("refuses to match a name longer than the cap rather than spend time on it", () => {
    const long = "a".repeat(MAX_GLOB_SUBJECT_LENGTH + 1);
    expect(() => compileGlob("a*b*c*d").test(long)).toThrow(RangeError);
    expect(() => compileGlob("a*").test(long)).toThrow(RangeError);
  });

  it("matches an adversarial name in linear time", () => {
    const name = `${"a".repeat(MAX_GLOB_SUBJECT_LENGTH - 1)}!`;
    const glob = compileGlob("*a*a*a*a*a*a*a*a*a*a*b");
    const start = performance.now();
    expect(glob.test(name)).toBe(false);
    expect(performance.now() - start).toBeLessThan(200);
  });
});
