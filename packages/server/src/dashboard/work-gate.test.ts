import { UnavailableError } from "@countersign/core";
import { describe, expect, it } from "vitest";
import { WorkGate } from "./work-gate.ts";

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe("WorkGate", () => {
  it("runs at most `concurrency` tasks at once, the rest in arrival order", async () => {
    const gate = new WorkGate({ concurrency: 2, maxWaiting: 10 });
    const started: number[] = [];
    let inFlight = 0;
    let peak = 0;
    const blockers = Array.from({ length: 5 }, deferred);
    const runs = blockers.map((b, i) =>
      gate.run(async () => {
        started.push(i);
        inFlight++;
        peak = Math.max(peak, inFlight);
        await b.promise;
        inFlight--;
        return i;
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1]);
    expect(gate.load).toEqual({ running: 2, waiting: 3 });
    for (const b of blockers) {
      b.resolve();
      await new Promise((r) => setImmediate(r));
    }
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3, 4]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
    expect(gate.load).toEqual({ running: 0, waiting: 0 });
  });

  it("refuses work past the queue's bound with a retryable error, and frees the slot of a failed task", async () => {
    const gate = new WorkGate({ concurrency: 1, maxWaiting: 1 });
    const hold = deferred();
    const first = gate.run(() => hold.promise);
    const second = gate.run(async () => {
      throw new Error("boom");
    });
    const refused = await gate.run(async () => "never").catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(UnavailableError);
    expect((refused as UnavailableError).retryable).toBe(true);
    hold.resolve();
    await first;
    await expect(second).rejects.toThrow("boom");
    expect(gate.load).toEqual({ running: 0, waiting: 0 });
    expect(await gate.run(async () => "again")).toBe("again");
  });
});
