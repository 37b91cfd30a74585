import { describe, expect, it } from "vitest";
import { diffJson } from "./diff.ts";

describe("diffJson", () => {
  it("lists changed, added and removed fields by JSON pointer", () => {
    const before = { to: "a@example.com", amount: 120, tags: ["x", "y"], meta: { "a/b": 1, gone: true } };
    const after = { to: "b@example.com", amount: 120, tags: ["x"], meta: { "a/b": 2 }, note: "new" };
    expect(diffJson(before, after)).toEqual([
      { path: "/meta/a~1b", kind: "changed", before: 1, after: 2 },
      { path: "/meta/gone", kind: "removed", before: true },
      { path: "/note", kind: "added", after: "new" },
      { path: "/tags/1", kind: "removed", before: "y" },
      { path: "/to", kind: "changed", before: "a@example.com", after: "b@example.com" },
    ]);
  });

  it("finds nothing between equal values, and a whole change between different kinds", () => {
    expect(diffJson({ a: [1, { b: null }] }, { a: [1, { b: null }] })).toEqual([]);
    expect(diffJson({ a: 1 }, [1])).toEqual([{ path: "", kind: "changed", before: { a: 1 }, after: [1] }]);
    expect(diffJson({ a: "1" }, { a: 1 })).toEqual([{ path: "/a", kind: "changed", before: "1", after: 1 }]);
  });
});
