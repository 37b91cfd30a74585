import { describe, expect, it } from "vitest";
import { compileCondition } from "./condition.ts";
import { PolicyError } from "./problems.ts";
import { MAX_REGEX_SUBJECT_LENGTH } from "./regex-safety.ts";
import type { PolicyInput } from "./types.ts";

function input(args: unknown, extra: Partial<PolicyInput> = {}): PolicyInput {
  return { tool: "db.write", args, agent_id: "billing-bot", environment: "production", ...extra };
}

function test(condition: unknown, args: unknown, extra: Partial<PolicyInput> = {}): boolean {
  return compileCondition(condition).test(input(args, extra));
}

describe("comparison operators", () => {
  it("== and != are type-strict, and != needs the field to be present", () => {
    expect(test("args.n == 5", { n: 5 })).toBe(true);
    expect(test("args.n == 5", { n: "5" })).toBe(false);
    expect(test("args.n == '5'", { n: "5" })).toBe(true);
    expect(test("args.b == true", { b: true })).toBe(true);
    expect(test("args.b == true", { b: 1 })).toBe(false);
    expect(test("args.z == null", { z: null })).toBe(true);
    expect(test("args.z == null", {})).toBe(false);
    expect(test("args.n != 5", { n: 6 })).toBe(true);
    expect(test("args.n != 5", { n: "5" })).toBe(true);
    expect(test("args.n != 5", { n: 5 })).toBe(false);
    expect(test("args.n != 5", {})).toBe(false);
  });

  it("orders numbers with numbers and strings with strings, never across", () => {
    expect(test("args.amount > 1000", { amount: 2000 })).toBe(true);
    expect(test("args.amount > 1000", { amount: 1000 })).toBe(false);
    expect(test("args.amount >= 1000", { amount: 1000 })).toBe(true);
    expect(test("args.amount < 1000", { amount: 999.5 })).toBe(true);
    expect(test("args.amount <= 1000", { amount: 1000 })).toBe(true);
    expect(test("args.amount <= 1000", { amount: 1000.01 })).toBe(false);
    expect(test("args.amount > 1000", { amount: "2000" })).toBe(false);
    expect(test("args.amount < 1000", { amount: "5" })).toBe(false);
    expect(test("args.amount > 1000", { amount: null })).toBe(false);
    expect(test("args.amount < 1000", { amount: [5] })).toBe(false);
    expect(test("args.amount < 1000", {})).toBe(false);
    expect(test("args.day >= '2026-01-01'", { day: "2026-03-01" })).toBe(true);
    expect(test("args.day >= '2026-01-01'", { day: 20260301 })).toBe(false);
  });

  it("in and not_in compare strictly and need a present field", () => {
    expect(test("args.t in ['users', 'orders']", { t: "orders" })).toBe(true);
    expect(test("args.t in ['users', 'orders']", { t: "logs" })).toBe(false);
    expect(test("args.t in [1, 2]", { t: "1" })).toBe(false);
    expect(test("args.t in [null]", {})).toBe(false);
    expect(test("args.t in [null]", { t: null })).toBe(true);
    expect(test("args.t not_in ['users']", { t: "logs" })).toBe(true);
    expect(test("args.t not_in ['users']", { t: "users" })).toBe(false);
    expect(test("args.t not_in ['users']", {})).toBe(false);
  });

  it("matches tests strings only, compiled once", () => {
    expect(test("args.to matches '@example\\.com$'", { to: "a@example.com" })).toBe(true);
    expect(test("args.to matches '@example\\.com$'", { to: "a@exampleXcom" })).toBe(false);
    expect(test("args.to matches '@example\\.com$'", { to: ["a@example.com"] })).toBe(false);
    expect(test("args.to matches '(?i)^ADMIN'", { to: "admin@x" })).toBe(true);
    expect(test("args.to matches 'x'", {})).toBe(false);
  });

  it("refuses to run matches on an over-long string instead of skipping it", () => {
    const long = "x".repeat(MAX_REGEX_SUBJECT_LENGTH + 1);
    expect(() => test("args.sql matches 'drop'", { sql: long })).toThrow(/longer than/);
    expect(test("args.sql matches 'drop'", { sql: long.slice(1) })).toBe(false);
  });

  it("exists and not_exists treat null as present and undefined as missing", () => {
    expect(test("args.force exists", { force: false })).toBe(true);
    expect(test("args.force exists", { force: null })).toBe(true);
    expect(test("args.force exists", {})).toBe(false);
    expect(test("args.force exists", { force: undefined })).toBe(false);
    expect(test("args.force not_exists", {})).toBe(true);
    expect(test("args.force not_exists", { force: 0 })).toBe(false);
    expect(test("args exists", undefined)).toBe(false);
    expect(test("agent_id exists", {}, { agent_id: null })).toBe(false);
    expect(test("environment not_exists", {}, { environment: null })).toBe(true);
  });

  it("contains works on strings and on lists", () => {
    expect(test("args.body contains 'secret'", { body: "top secret plan" })).toBe(true);
    expect(test("args.body contains 'secret'", { body: "nothing" })).toBe(false);
    expect(test("args.tags contains 'pii'", { tags: ["a", "pii"] })).toBe(true);
    expect(test("args.ids contains 7", { ids: [1, 7] })).toBe(true);
    expect(test("args.ids contains 7", { ids: ["7"] })).toBe(false);
    expect(test("args.ids contains 7", { ids: "17" })).toBe(false);
    expect(test("args.ids contains 'x'", { ids: 5 })).toBe(false);
  });

  it("starts_with and ends_with need strings", () => {
    expect(test("tool starts_with 'db.'", {})).toBe(true);
    expect(test("tool ends_with '.read'", {})).toBe(false);
    expect(test("args.n starts_with '1'", { n: 12 })).toBe(false);
    expect(test("agent_id ends_with '-bot'", {})).toBe(true);
  });
});

describe("fields", () => {
  it("reads nested paths, array indexes and quoted keys", () => {
    const args = { items: [{ sku: "A1" }, { sku: "B2" }], "x.y": { z: 3 } };
    expect(test("args.items[1].sku == 'B2'", args)).toBe(true);
    expect(test("args.items[2].sku exists", args)).toBe(false);
    expect(test('args["x.y"].z == 3', args)).toBe(true);
    expect(test("context.run.step > 3", {}, { context: { run: { step: 4 } } })).toBe(true);
    expect(test("context.run.step > 3", {}, {})).toBe(false);
  });

  it("reads only own properties and only indexes arrays", () => {
    expect(test("args.items.length exists", { items: [1, 2] })).toBe(false);
    expect(test("args.constructor exists", {})).toBe(false);
    expect(test("args.toString exists", {})).toBe(false);
    expect(test("args.m[0] exists", { m: { "0": 1 } })).toBe(false);
    expect(test("args.name.first exists", { name: "plain string" })).toBe(false);
  });

  it("rejects unknown roots and sub-fields of scalar roots", () => {
    expect(() => compileCondition("user.id == 1")).toThrow(/unknown field/);
    expect(() => compileCondition("tool.name == 'x'")).toThrow(/tool has no sub-fields/);
    expect(() => compileCondition({ field: "args.a b", op: "exists" })).toThrow(/cannot read field path/);
  });
});

describe("combinators", () => {
  it("combines with all, any and not, in structured and shorthand forms alike", () => {
    const structured = {
      all: [
        { field: "args.amount", op: ">", value: 100 },
        { any: ["args.currency == 'EUR'", { not: { field: "agent_id", op: "starts_with", value: "ops-" } }] },
      ],
    };
    const shorthand = "args.amount > 100 and (args.currency == 'EUR' or not agent_id starts_with 'ops-')";
    for (const c of [structured, shorthand]) {
      expect(test(c, { amount: 200, currency: "EUR" }, { agent_id: "ops-1" })).toBe(true);
      expect(test(c, { amount: 200, currency: "USD" }, { agent_id: "ops-1" })).toBe(false);
      expect(test(c, { amount: 200, currency: "USD" }, { agent_id: "billing" })).toBe(true);
      expect(test(c, { amount: 50, currency: "EUR" }, { agent_id: "billing" })).toBe(false);
    }
    expect(compileCondition(shorthand).condition).toEqual(compileCondition(structured).condition);
  });
});

describe("condition errors", () => {
  function problems(raw: unknown): string[] {
    try {
      compileCondition(raw, "$.grant.args");
    } catch (err) {
      if (err instanceof PolicyError) return err.problems.map((p) => `${p.path}: ${p.message}`);
      throw err;
    }
    return [];
  }

  it("lists every problem with its path", () => {
    expect(
      problems({
        all: [
          { field: "args.a", op: "~~", value: 1 },
          { field: "args.b", op: ">", value: true },
        ],
      }),
    ).toEqual([
      expect.stringMatching(/^\$\.grant\.args\.all\[0\]\.op: op must be one of/),
      '$.grant.args.all[1].value: ">" needs a number or a string',
    ]);
  });

  it.each([
    [{ field: "args.a", op: "exists", value: 1 }, /"exists" takes no value/],
    [{ field: "args.a", op: "==" }, /"==" needs a value/],
    [{ field: "args.a", op: "==", value: [1] }, /"==" needs a value/],
    [{ field: "args.a", op: "in", value: [] }, /non-empty list/],
    [{ field: "args.a", op: "in", value: [{}] }, /lists only/],
    [{ field: "args.a", op: "matches", value: "(a+)+" }, /nested quantifiers/],
    [{ field: "args.a", op: "matches", value: "(?:a|a)*!" }, /repeated alternation/],
    [{ field: "args.a", op: "matches", value: "(a|a)*b" }, /repeated alternation/],
    ["args.a matches '(?:.|.)*!'", /repeated alternation/],
    [{ field: "args.a", op: "matches", value: "[" }, /invalid regular expression/],
    [{ field: "args.a", op: "starts_with", value: 1 }, /needs a string/],
    [{ field: "args.a", op: ">", value: Number.NaN }, /needs a number or a string/],
    [{ field: "args.a", op: "==", value: 1, extra: true }, /unknown key "extra"/],
    [{ op: "exists" }, /missing field/],
    [{ all: [] }, /non-empty list/],
    [{ all: ["args.a exists"], any: ["args.b exists"] }, /cannot be combined/],
    [42, /expected a condition/],
    ["args.a >", /cannot parse condition/],
  ])("rejects %j", (raw, message) => {
    expect(problems(raw).join("\n")).toMatch(message);
  });

  it("limits nesting depth", () => {
    let deep: unknown = "args.a exists";
    for (let i = 0; i < 40; i++) deep = { not: deep };
    expect(problems(deep).join("\n")).toMatch(/nest at most/);
  });
});
