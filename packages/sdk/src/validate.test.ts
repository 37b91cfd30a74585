import { describe, expect, it } from "vitest";
import {
  arrayOf,
  field,
  int,
  nullable,
  obj,
  oneOf,
  parseRfc3339,
  ShapeError,
  str,
  timestamp,
} from "./validate.ts";

describe("parseRfc3339", () => {
  it("reads UTC timestamps with and without fractions", () => {
    expect(parseRfc3339("2025-06-01T12:00:00Z")?.toISOString()).toBe("2025-06-01T12:00:00.000Z");
    expect(parseRfc3339("2025-06-01T12:00:00.5Z")?.toISOString()).toBe("2025-06-01T12:00:00.500Z");
    expect(parseRfc3339("2025-06-01T12:00:00.123Z")?.toISOString()).toBe("2025-06-01T12:00:00.123Z");
  });

  it("truncates fractions beyond milliseconds instead of refusing them", () => {
    expect(parseRfc3339("2025-06-01T12:00:00.123987654Z")?.toISOString()).toBe("2025-06-01T12:00:00.123Z");
  });

  it("applies numeric offsets and accepts lower-case t and z", () => {
    expect(parseRfc3339("2025-06-01T14:30:00+02:30")?.toISOString()).toBe("2025-06-01T12:00:00.000Z");
    expect(parseRfc3339("2025-06-01T07:00:00-05:00")?.toISOString()).toBe("2025-06-01T12:00:00.000Z");
    expect(parseRfc3339("2025-06-01t12:00:00z")?.toISOString()).toBe("2025-06-01T12:00:00.000Z");
  });

  it("accepts 29 February only in leap years", () => {
    expect(parseRfc3339("2024-02-29T00:00:00Z")).toBeInstanceOf(Date);
    expect(parseRfc3339("2000-02-29T00:00:00Z")).toBeInstanceOf(Date);
    expect(parseRfc3339("2025-02-29T00:00:00Z")).toBeUndefined();
    expect(parseRfc3339("1900-02-29T00:00:00Z")).toBeUndefined();
  });

  it("keeps two-digit years where they are instead of moving them to the 1900s", () => {
    expect(parseRfc3339("0050-01-01T00:00:00Z")?.getUTCFullYear()).toBe(50);
  });

  it.each([
    "2025-06-01",
    "2025-06-01T12:00:00",
    "2025-06-01 12:00:00Z",
    "2025-13-01T00:00:00Z",
    "2025-04-31T00:00:00Z",
    "2025-06-01T24:00:00Z",
    "2025-06-01T12:60:00Z",
    "2025-06-01T12:00:60Z",
    "2025-06-01T12:00:00+24:00",
    "2025-06-01T12:00:00.Z",
    "1748779200000",
    " 2025-06-01T12:00:00Z",
  ])("refuses %j", (text) => {
    expect(parseRfc3339(text)).toBeUndefined();
  });
});

describe("parsers", () => {
  it("name the offending path", () => {
    const parse = (value: unknown) =>
      field(
        obj(value, "$"),
        "items",
        arrayOf((v, p) => field(obj(v, p), "at", timestamp, p)),
        "$",
      );
    expect(() => parse({ items: [{ at: "2025-06-01T12:00:00Z" }, { at: "yesterday" }] })).toThrow(
      new ShapeError("$.items[1].at", 'expected an RFC 3339 timestamp, got "yesterday"'),
    );
    expect(() => parse({})).toThrow(/\$\.items: expected an array, got nothing/);
  });

  it("check primitives strictly", () => {
    expect(() => str(1, "$")).toThrow(ShapeError);
    expect(() => int(1.5, "$")).toThrow(ShapeError);
    expect(() => int("1", "$")).toThrow(ShapeError);
    expect(int(3, "$")).toBe(3);
    expect(() => obj([], "$")).toThrow(/expected an object, got an array/);
    expect(() => obj(null, "$")).toThrow(/got null/);
    expect(nullable(str)(null, "$")).toBeNull();
    expect(() => nullable(str)(undefined, "$")).toThrow(/missing/);
    expect(oneOf(["a", "b"])("b", "$")).toBe("b");
    expect(() => oneOf(["a", "b"])("c", "$")).toThrow(/one of a, b/);
  });
});
