import { canonicalize as coreCanonicalize } from "@countersign/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CanonicalizationError, canonicalize } from "./canonical-json.ts";

/** What an implementation makes of a value: its canonical text, or the fact that it refused. */
function outcome(run: (value: unknown) => string, value: unknown): string {
  try {
    return run(value);
  } catch (error) {
    if (error instanceof Error && error.name === "CanonicalizationError") return "<refused>";
    throw error;
  }
}

// Any UTF-16 code unit, so strings include paired and lone surrogates alike.
const anyUnits = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u)) });

describe("SDK canonical JSON", () => {
  it("agrees with the core implementation on random JSON values", () => {
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit: "binary" }), (value) => {
        expect(canonicalize(value)).toBe(coreCanonicalize(value));
      }),
      { numRuns: 500 },
    );
  });

  it("agrees with the core implementation on strings of arbitrary code units, refusals included", () => {
    fc.assert(
      fc.property(anyUnits, anyUnits, (text, key) => {
        const value = { [key]: [text] };
        expect(outcome(canonicalize, value)).toBe(outcome(coreCanonicalize, value));
      }),
      { numRuns: 500 },
    );
  });

  it("agrees with the core implementation on the nesting limit", () => {
    const nest = (depth: number): unknown => {
      let value: unknown = "x";
      for (let i = 0; i < depth; i++) value = i % 2 === 0 ? { k: value } : [value];
      return value;
    };
    for (const depth of [1, 127, 128, 129, 130, 200_000]) {
      const value = nest(depth);
      expect(outcome(canonicalize, value)).toBe(outcome(coreCanonicalize, value));
    }
    expect(outcome(canonicalize, nest(128))).not.toBe("<refused>");
    expect(outcome(canonicalize, nest(129))).toBe("<refused>");
    expect(() => canonicalize(nest(200_000))).toThrow(CanonicalizationError);
  });

  it("matches RFC 8785's examples", () => {
    expect(
      // Parsed from text, as in the RFC: the first literal has more digits than a double holds.
      canonicalize(
        JSON.parse('{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001]}'),
      ),
    ).toBe('{"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27]}');
    expect(canonicalize({ string: '€$\u000f\nA\'B"\\\\"/' })).toBe(
      '{"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
    expect(canonicalize({ "\u20ac": 1, "\r": 2, "\ud83d\ude00": 3, "\u0080": 4, "1": 5, "\u00f6": 6 })).toBe(
      '{"\\r":2,"1":5,"\u0080":4,"ö":6,"€":1,"😀":3}',
    );
    expect(canonicalize({ b: undefined, a: -0, c: [true, null] })).toBe('{"a":0,"c":[true,null]}');
  });

  it("refuses NaN, Infinity and lone surrogates, as core does", () => {
    const refused: unknown[] = [
      Number.NaN,
      { a: [1, Number.POSITIVE_INFINITY] },
      Number.NEGATIVE_INFINITY,
      "\ud800",
      "x\udc00",
      { "\udbff": 1 },
      ["ok", "\ud83d"],
    ];
    for (const value of refused) {
      expect(() => canonicalize(value)).toThrow(CanonicalizationError);
      expect(() => coreCanonicalize(value)).toThrow(/finite|surrogate/);
    }
    expect(() => canonicalize({ a: { b: Number.NaN } })).toThrow("$.a.b: numbers must be finite");
  });

  it("refuses values JSON cannot represent", () => {
    for (const value of [undefined, [undefined], 1n, () => 1, new Date(0), new Map(), Symbol("s")]) {
      expect(() => canonicalize(value)).toThrow(CanonicalizationError);
    }
  });
});
