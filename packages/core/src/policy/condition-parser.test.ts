import { describe, expect, it } from "vitest";
import { parseConditionShorthand, ShorthandError } from "./condition-parser.ts";

describe("parseConditionShorthand", () => {
  it.each([
    ["args.amount > 1000", { field: "args.amount", op: ">", value: 1000 }],
    ["args.amount>=-2.5e3", { field: "args.amount", op: ">=", value: -2500 }],
    ["args.x == 'a b'", { field: "args.x", op: "==", value: "a b" }],
    ['args.x != "q"', { field: "args.x", op: "!=", value: "q" }],
    ["args.flag == true", { field: "args.flag", op: "==", value: true }],
    ["args.flag == null", { field: "args.flag", op: "==", value: null }],
    ["args.to matches '@example\\.com$'", { field: "args.to", op: "matches", value: "@example\\.com$" }],
    ["args.table in ['users','orders']", { field: "args.table", op: "in", value: ["users", "orders"] }],
    ["args.n not_in [1, 2]", { field: "args.n", op: "not_in", value: [1, 2] }],
    ["args.n not in [1]", { field: "args.n", op: "not_in", value: [1] }],
    ["args.force exists", { field: "args.force", op: "exists" }],
    ["args.force not_exists", { field: "args.force", op: "not_exists" }],
    ["args.tags contains 'x'", { field: "args.tags", op: "contains", value: "x" }],
    ["tool starts_with 'db.'", { field: "tool", op: "starts_with", value: "db." }],
    ["agent_id ends_with '-bot'", { field: "agent_id", op: "ends_with", value: "-bot" }],
    ["args.items[0].sku == 'A'", { field: "args.items[0].sku", op: "==", value: "A" }],
    ['context["x.y"] == 1', { field: 'context["x.y"]', op: "==", value: 1 }],
    ["args.q == 'it''s'", { field: "args.q", op: "==", value: "it's" }],
  ])("parses %s", (text, expected) => {
    expect(parseConditionShorthand(text)).toEqual(expected);
  });

  it("gives and precedence over or, and applies not to the next term", () => {
    expect(parseConditionShorthand("args.a == 1 or args.b == 2 and not args.c exists")).toEqual({
      any: [
        { field: "args.a", op: "==", value: 1 },
        {
          all: [{ field: "args.b", op: "==", value: 2 }, { not: { field: "args.c", op: "exists" } }],
        },
      ],
    });
  });

  it("honours parentheses", () => {
    expect(parseConditionShorthand("not (args.a == 1 or args.b == 2)")).toEqual({
      not: {
        any: [
          { field: "args.a", op: "==", value: 1 },
          { field: "args.b", op: "==", value: 2 },
        ],
      },
    });
  });

  it.each([
    ["args.amount >> 1000", /expected a value .* at character 14/],
    ["args.amount > ", /expected a value/],
    ["args.amount", /expected an operator/],
    ["args.a == 'open", /unterminated string at character 11/],
    ["args.a == 1 args.b == 2", /unexpected text after the condition/],
    ["(args.a == 1", /expected "\)"/],
    ["args.a in [[1]]", /expected a value/],
    ["args.a == #", /unexpected "#"/],
    ["== 1", /expected a field/],
  ])("rejects %s", (text, message) => {
    expect(() => parseConditionShorthand(text)).toThrow(ShorthandError);
    expect(() => parseConditionShorthand(text)).toThrow(message);
  });
});
