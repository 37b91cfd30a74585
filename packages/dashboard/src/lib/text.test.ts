import { describe, expect, it } from "vitest";
import { parseJson, pretty, shortHash } from "./json.ts";
import { hasHiddenCharacters, segments } from "./safe-text.ts";
import { formatRemaining, urgency } from "./time.ts";

describe("text shown to reviewers", () => {
  it("marks direction overrides and zero-width characters so they cannot disguise text", () => {
    const sneaky = "invoice\u202Efdp.exe\u200B";
    expect(hasHiddenCharacters(sneaky)).toBe(true);
    expect(hasHiddenCharacters("plain café")).toBe(false);
    expect(segments(sneaky)).toEqual([
      { text: "invoice", hidden: false, start: 0 },
      { text: "U+202E", hidden: true, start: 7 },
      { text: "fdp.exe", hidden: false, start: 8 },
      { text: "U+200B", hidden: true, start: 15 },
    ]);
  });

  it("parses JSON, and says where it is broken", () => {
    expect(parseJson('{"a": [1, 2]}')).toEqual({ ok: true, value: { a: [1, 2] } });
    const broken = parseJson('{\n  "a": 1,\n  "b": }');
    expect(broken.ok).toBe(false);
    if (!broken.ok) expect(broken.line).toBe(3);
    expect(parseJson("  ").ok).toBe(false);
    expect(pretty({ a: 1 })).toBe('{\n  "a": 1\n}');
    expect(shortHash("sha256:0123456789abcdef0123")).toBe("0123456789ab");
  });

  it("counts down to the deadline and says how urgent it is", () => {
    const now = Date.parse("2030-01-01T00:00:00Z");
    const at = (s: number) => new Date(now + s * 1000).toISOString();
    expect(formatRemaining(null, now)).toBe("no deadline");
    expect(formatRemaining(at(42), now)).toBe("42s left");
    expect(formatRemaining(at(125), now)).toBe("2m 05s left");
    expect(formatRemaining(at(3 * 3600 + 60), now)).toBe("3h 01m left");
    expect(formatRemaining(at(-1), now)).toBe("expired");
    expect([urgency(at(60), now), urgency(at(1200), now), urgency(at(7200), now)]).toEqual([
      "urgent",
      "soon",
      "none",
    ]);
  });
});
