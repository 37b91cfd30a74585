import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CanonicalizationError, canonicalize, MAX_JSON_DEPTH } from "./canonical-json.ts";
import { argsHash } from "./hash.ts";

describe("RFC 8785 canonical JSON", () => {
  it("sorts keys by UTF-16 code units and drops insignificant whitespace", () => {
    expect(canonicalize({ b: 1, a: [true, null, "x"], "\u20ac": 1, "\r": 2, "1": 3 })).toBe(
      '{"\\r":2,"1":3,"a":[true,null,"x"],"b":1,"€":1}',
    );
  });

  it("serialises numbers the ECMAScript way (RFC 8785 §3.2.2.3 examples)", () => {
    const cases: Array<[number, string]> = [
      [0, "0"],
      [-0, "0"],
      [1e21, "1e+21"],
      [1e-7, "1e-7"],
      [333333333.3333333, "333333333.3333333"],
      [5e-324, "5e-324"],
      [9007199254740992, "9007199254740992"],
      [0.000001, "0.000001"],
    ];
    for (const [value, text] of cases) expect(canonicalize(value)).toBe(text);
  });

  it("escapes strings minimally", () => {
    expect(canonicalize('\u0000\b\t\n\f\r"\\/\u007f')).toBe('"\\u0000\\b\\t\\n\\f\\r\\"\\\\/\u007f"');
  });

  it("refuses what JSON cannot carry, naming the path", () => {
    expect(() => canonicalize({ a: [1, Number.NaN] })).toThrow(CanonicalizationError);
    expect(() => canonicalize({ a: [1, Number.NaN] })).toThrow("/a/1");
    expect(() => canonicalize(Number.POSITIVE_INFINITY)).toThrow(CanonicalizationError);
    expect(() => canonicalize({ s: "\ud800" })).toThrow("lone surrogate");
    expect(() => canonicalize({ "\udc00": 1 })).toThrow("lone surrogate");
    expect(() => canonicalize(new Date(0))).toThrow("plain JSON objects");
    expect(() => canonicalize([undefined])).toThrow();
    expect(() => canonicalize({ x: { y: [0, { z: "\ud800" }] } })).toThrow(/^\/x\/y\/1\/z: /);
    // A deeper sibling serialised earlier leaves no trace in the path of a later failure.
    expect(() => canonicalize({ a: { deep: { deeper: [1] } }, b: Number.NaN })).toThrow(/^\/b: /);
    expect(() => canonicalize({ "a/b": { "c~d": [Number.NaN] } })).toThrow(/^\/a~1b\/c~0d\/0: /);
    expect(() => canonicalize({ k: { "\udc00": 1 } })).toThrow(/^\/k: property name/);
  });

  it("refuses values nested deeper than MAX_JSON_DEPTH instead of overflowing the stack", () => {
    const nest = (depth: number): unknown => {
      let value: unknown = 1;
      for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { k: value };
      return value;
    };
    expect(MAX_JSON_DEPTH).toBe(128);
    expect(canonicalize(nest(MAX_JSON_DEPTH))).toContain("1");
    expect(() => canonicalize(nest(MAX_JSON_DEPTH + 1))).toThrow(CanonicalizationError);
    expect(() => canonicalize(nest(MAX_JSON_DEPTH + 1))).toThrow(/nested more than 128 levels/);
    // Far beyond what the recursion could survive: still a refusal, not a RangeError.
    const deep = JSON.parse(`${"[".repeat(200_000)}1${"]".repeat(200_000)}`);
    expect(() => canonicalize(deep)).toThrow(CanonicalizationError);
    expect(() => canonicalize({ args: deep })).toThrow(/^\/args\/0\/0/);
  });

  it("is stable under key reordering and round-trips through JSON.parse", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalize(value);
        expect(canonicalize(JSON.parse(text))).toBe(text);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  it("hashes arguments independently of key order", () => {
    expect(argsHash({ a: 1, b: { c: 2, d: 3 } })).toBe(argsHash({ b: { d: 3, c: 2 }, a: 1 }));
    expect(argsHash({ a: 1 })).not.toBe(argsHash({ a: 2 }));
    expect(argsHash({ a: 1 })).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});
