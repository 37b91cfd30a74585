import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../config.ts";
import { DEFAULT_RETRY_SCHEDULE, nextDelayMs, parseRetrySchedule, sweepIntervalMs } from "./schedule.ts";
import { liveMaterial, newMaterial, rotateMaterial, SecretBox, signingKeys } from "./secrets.ts";
import { webhookHeaders } from "./signing.ts";

const random = { bytes: (n: number) => new Uint8Array(randomBytes(n)) };
const NOW = Date.parse("2026-05-01T00:00:00Z");

describe("signing", () => {
  it("produces headers the standardwebhooks reference implementation verifies", () => {
    const material = newMaterial("hmac", random, new Date(NOW).toISOString());
    const body = JSON.stringify({
      type: "request.decided",
      timestamp: "2026-05-01T00:00:00.000Z",
      data: { a: "é" },
    });
    const headers = webhookHeaders(signingKeys(material, NOW), "msg_1_abc", Date.now(), body);
    const secret = material.hmac[0]?.secret as string;
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    // And matches its own signing byte for byte.
    const expected = new Webhook(secret).sign(
      "msg_1_abc",
      new Date(Number(headers["webhook-timestamp"]) * 1000),
      body,
    );
    expect(headers["webhook-signature"]).toBe(expected);
  });

  it("signs with every live secret during a rotation's grace period, then only the new one", () => {
    const first = newMaterial("ed25519", random, new Date(NOW).toISOString());
    const rotated = rotateMaterial(first, "ed25519", random, NOW, 60_000);
    expect(rotated.hmac).toHaveLength(2);
    expect(rotated.ed25519).toHaveLength(2);
    const during = signingKeys(rotated, NOW + 1_000);
    expect(during.hmac).toHaveLength(2);
    expect(during.validUntilMs).toBe(NOW + 60_000);
    const header = webhookHeaders(during, "msg_2_abc", NOW + 1_000, "{}")["webhook-signature"] ?? "";
    expect(header.split(" ").map((p) => p.split(",")[0])).toEqual(["v1", "v1", "v1a", "v1a"]);
    expect(liveMaterial(rotated, NOW + 60_001).hmac).toHaveLength(1);
    // A second rotation drops what has already expired.
    const again = rotateMaterial(rotated, "ed25519", random, NOW + 120_000, 60_000);
    expect(again.hmac).toHaveLength(2);
  });
});

describe("SecretBox", () => {
  const box = new SecretBox(randomBytes(32));

  it("round-trips and binds each envelope to its row", () => {
    const sealed = box.seal("whsec_abc", "webhook_endpoints:whk_1");
    expect(sealed).toMatch(/^cs1\./);
    expect(sealed).not.toContain("whsec_abc");
    expect(box.open(sealed, "webhook_endpoints:whk_1")).toBe("whsec_abc");
    expect(() => box.open(sealed, "webhook_endpoints:whk_2")).toThrow();
  });

  it("says so when a secret was sealed under another key", () => {
    const sealed = box.seal("x", "a");
    expect(() => new SecretBox(randomBytes(32)).open(sealed, "a")).toThrow(/sealed with another key/);
  });

  it("derives a stable key from COUNTERSIGN_SECRET_KEY and refuses short ones", () => {
    const text = "a-long-operator-supplied-secret-key-value";
    const sealed = SecretBox.fromPassphrase(text).seal("s", "aad");
    expect(SecretBox.fromPassphrase(text).open(sealed, "aad")).toBe("s");
    expect(() => SecretBox.fromPassphrase("short")).toThrow(/at least 32 characters/);
  });
});

describe("retry schedule", () => {
  it("defaults to immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h", () => {
    expect(parseRetrySchedule(undefined)).toEqual([0, 5, 300, 1800, 7200, 18000, 36000, 36000]);
    expect(parseRetrySchedule(" ")).toEqual([...DEFAULT_RETRY_SCHEDULE]);
    expect(parseRetrySchedule("0, 0.5,2")).toEqual([0, 0.5, 2]);
  });

  it.each(["a,b", "1,,2", "-1", "1e9"])("refuses %j when not a schedule", (text) => {
    expect(() => parseRetrySchedule(text)).toThrow(/COUNTERSIGN_WEBHOOK_RETRY_SCHEDULE/);
  });

  it("jitters each delay within ±10% and ends after the last entry", () => {
    const schedule = [0, 10, 100];
    expect(nextDelayMs(schedule, 0, () => 0.99)).toBe(0);
    expect(nextDelayMs(schedule, 1, () => 0)).toBe(9_000);
    expect(nextDelayMs(schedule, 1, () => 1)).toBe(11_000);
    expect(nextDelayMs(schedule, 2, () => 0.5)).toBe(100_000);
    expect(nextDelayMs(schedule, 3)).toBeUndefined();
  });

  it("sweeps often enough for short test schedules, at most once a second", () => {
    expect(sweepIntervalMs(DEFAULT_RETRY_SCHEDULE)).toBe(1000);
    expect(sweepIntervalMs([0, 0.2])).toBe(100);
    expect(sweepIntervalMs([0, 0.01])).toBe(50);
    expect(sweepIntervalMs([0])).toBe(500);
  });
});

describe("configuration", () => {
  it("reads the allow-list from the flag over the environment, and the schedule from the environment", () => {
    const env = {
      COUNTERSIGN_OUTBOUND_ALLOWLIST: "10.0.0.0/8, hooks.internal",
      COUNTERSIGN_WEBHOOK_RETRY_SCHEDULE: "0,1,2",
    };
    const fromEnv = resolveConfig({}, env);
    expect(fromEnv.outboundAllowlist).toEqual(["10.0.0.0/8", "hooks.internal"]);
    expect(fromEnv.webhookRetrySchedule).toEqual([0, 1, 2]);
    expect(resolveConfig({ "outbound-allowlist": "127.0.0.1/32" }, env).outboundAllowlist).toEqual([
      "127.0.0.1/32",
    ]);
    const defaults = resolveConfig({}, {});
    expect(defaults.outboundAllowlist).toEqual([]);
    expect(defaults.webhookRetrySchedule).toEqual([...DEFAULT_RETRY_SCHEDULE]);
  });

  it("refuses bad values as configuration errors", () => {
    expect(() => resolveConfig({ "outbound-allowlist": "10.0.0.0/99" }, {})).toThrow(/neither a CIDR/);
    expect(() => resolveConfig({}, { COUNTERSIGN_WEBHOOK_RETRY_SCHEDULE: "soon" })).toThrow(/RETRY_SCHEDULE/);
  });
});
