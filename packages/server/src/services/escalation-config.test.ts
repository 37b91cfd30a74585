import { describe, expect, it } from "vitest";
import { ConfigError, resolveConfig } from "../config.ts";
import { effectiveEscalation, resolveEscalationConfig } from "./escalation-config.ts";

const fail = (message: string) => new Error(message);

describe("escalation configuration", () => {
  it("keeps the defaults when nothing is set", () => {
    expect(resolveEscalationConfig({}, fail)).toEqual({});
    expect(effectiveEscalation({})).toEqual({ urgent: 180, high: 600, normal: 1800, low: null });
  });

  it("reads per-priority seconds, and off for never", () => {
    const config = resolveEscalationConfig(
      {
        COUNTERSIGN_ESCALATE_URGENT_SECONDS: "60",
        COUNTERSIGN_ESCALATE_NORMAL_SECONDS: "off",
        COUNTERSIGN_ESCALATE_LOW_SECONDS: " 7200 ",
      },
      fail,
    );
    expect(effectiveEscalation(config)).toEqual({ urgent: 60, high: 600, normal: null, low: 7200 });
  });

  it("refuses nonsense, loudly, through the server configuration", () => {
    for (const value of ["0", "-5", "1.5", "soon", String(31 * 24 * 3600)]) {
      expect(() => resolveConfig({}, { COUNTERSIGN_ESCALATE_HIGH_SECONDS: value })).toThrow(ConfigError);
    }
    expect(resolveConfig({}, { COUNTERSIGN_ESCALATE_HIGH_SECONDS: "900" }).escalation).toEqual({ high: 900 });
  });
});
