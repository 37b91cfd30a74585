import { describe, expect, it } from "vitest";
import { checkBudgets } from "./budgets.ts";

const limits = { max_steps: 3, max_tool_calls: 2, max_seconds: 60, max_usd: 0.3 };
const T0 = Date.UTC(2026, 0, 1);

describe("checkBudgets", () => {
  it("counts the current call as used: reaching a limit is fine, going over is not", () => {
    expect(
      checkBudgets(limits, { steps: 3, tool_calls: 2, first_call_at_ms: T0, usd: 0.3 }, T0 + 60_000),
    ).toEqual({
      exceeded: [],
      remaining: { steps: 0, tool_calls: 0, seconds: 0, usd: 0 },
    });
    expect(
      checkBudgets(limits, { steps: 4, tool_calls: 3, first_call_at_ms: T0, usd: 0.31 }, T0 + 60_001),
    ).toEqual({
      exceeded: ["max_steps", "max_tool_calls", "max_seconds", "max_usd"],
      remaining: { steps: 0, tool_calls: 0, seconds: 0, usd: 0 },
    });
  });

  it("reports what is left", () => {
    expect(
      checkBudgets(limits, { steps: 1, tool_calls: 1, first_call_at_ms: T0, usd: 0.1 }, T0 + 15_500),
    ).toEqual({
      exceeded: [],
      remaining: { steps: 2, tool_calls: 1, seconds: 44.5, usd: 0.2 },
    });
  });

  it("tolerates floating-point sums that only touch the dollar limit", () => {
    const usd = 0.1 + 0.2; // 0.30000000000000004
    expect(
      checkBudgets({ max_usd: 0.3 }, { steps: 1, tool_calls: 1, first_call_at_ms: null, usd }, T0).exceeded,
    ).toEqual([]);
  });

  it("measures time from the first call, which is now when there is none yet", () => {
    expect(
      checkBudgets({ max_seconds: 0 }, { steps: 1, tool_calls: 1, first_call_at_ms: null, usd: 0 }, T0),
    ).toEqual({
      exceeded: [],
      remaining: { seconds: 0 },
    });
  });

  it("reports only the limits that are set", () => {
    expect(
      checkBudgets({ max_steps: 10 }, { steps: 50, tool_calls: 50, first_call_at_ms: 0, usd: 99 }, T0),
    ).toEqual({
      exceeded: ["max_steps"],
      remaining: { steps: 0 },
    });
    expect(checkBudgets(null, { steps: 50, tool_calls: 50, first_call_at_ms: 0, usd: 99 }, T0)).toEqual({
      exceeded: [],
      remaining: {},
    });
  });

  it("treats corrupt usage as over the limit", () => {
    const check = checkBudgets(
      limits,
      { steps: Number.NaN, tool_calls: 1, first_call_at_ms: T0, usd: 0 },
      Number.NaN,
    );
    expect(check.exceeded).toEqual(["max_steps", "max_seconds"]);
  });
});
