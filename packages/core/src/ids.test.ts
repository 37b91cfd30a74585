import { describe, expect, it } from "vitest";
import { ManualClock, type RandomSource } from "./clock.ts";
import { IdGenerator } from "./ids.ts";

function counterRandom(): RandomSource {
  let n = 0;
  return { bytes: (len) => new Uint8Array(len).map(() => (n++ * 37) % 256) };
}

describe("IdGenerator", () => {
  it("makes prefixed ids that sort in creation order, within and across milliseconds", () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const ids = new IdGenerator(clock, counterRandom());
    const made: string[] = [];
    for (let i = 0; i < 50; i++) {
      made.push(ids.next("req"));
      if (i % 10 === 9) clock.advance(1);
    }
    expect(made.every((id) => /^req_[0-9A-HJKMNP-TV-Z]{26}$/.test(id))).toBe(true);
    expect([...made].sort()).toEqual(made);
    expect(new Set(made).size).toBe(made.length);
  });

  it("stays monotonic if the clock steps backwards", () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const ids = new IdGenerator(clock, counterRandom());
    const a = ids.next("act");
    clock.advance(-5000);
    const b = ids.next("act");
    expect(b > a).toBe(true);
  });
});
