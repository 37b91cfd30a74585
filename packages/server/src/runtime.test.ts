import { describe, expect, it } from "vitest";
import { systemRandom } from "./runtime.ts";

describe("systemRandom", () => {
  it("hands out fresh bytes of the length asked, across refills of its pool, never the same twice", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2_000; i++) {
      const n = 1 + (i % 40);
      const bytes = systemRandom.bytes(n);
      expect(bytes).toHaveLength(n);
      if (n >= 8) {
        const hex = Buffer.from(bytes).toString("hex");
        expect(seen.has(hex)).toBe(false);
        seen.add(hex);
      }
    }
    expect(systemRandom.bytes(10_000)).toHaveLength(10_000);
  });

  it("gives each caller its own copy, untouched when the pool refills", () => {
    const a = systemRandom.bytes(16);
    const before = Buffer.from(a).toString("hex");
    // Draw past the end of the pool so it is refilled in place.
    for (let i = 0; i < 600; i++) systemRandom.bytes(16);
    expect(Buffer.from(a).toString("hex")).toBe(before);
  });
});
