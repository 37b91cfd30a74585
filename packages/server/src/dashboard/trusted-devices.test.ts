import { describe, expect, it } from "vitest";
import { DEVICE_TTL_MS, deviceToken, isTrustedDevice } from "./trusted-devices.ts";

const account = { id: "acc_01M80T273S3Y331X043NMSB82H", password_hash: "scrypt$32768$8$1$c2FsdA$aGFzaA" };
const now = Date.parse("2031-03-01T09:00:00Z");

describe("device tokens", () => {
  it("are trusted for the account and password they were issued under, until they age out", () => {
    const token = deviceToken(account, now);
    expect(isTrustedDevice(token, account, now)).toBe(true);
    expect(isTrustedDevice(token, account, now + DEVICE_TTL_MS - 1000)).toBe(true);
    expect(isTrustedDevice(token, account, now + DEVICE_TTL_MS + 1000)).toBe(false);
    // Issued in the future (beyond a minute of clock skew): not trusted.
    expect(isTrustedDevice(deviceToken(account, now + 5 * 60_000), account, now)).toBe(false);
  });

  it("are not trusted for another account, after a password change, or once altered", () => {
    const token = deviceToken(account, now);
    expect(isTrustedDevice(token, { ...account, id: "acc_01M80T273S3Y331X043NMSB82J" }, now)).toBe(false);
    expect(isTrustedDevice(token, { ...account, password_hash: "scrypt$32768$8$1$c2FsdA$bmV3" }, now)).toBe(
      false,
    );
    const [id, issued, mac] = token.split(".") as [string, string, string];
    const flipped = `${mac.slice(0, -1)}${mac.endsWith("A") ? "B" : "A"}`;
    for (const bad of [
      `${id}.${issued}.${flipped}`,
      `${id}.${(Number.parseInt(issued, 36) - 1).toString(36)}.${mac}`,
      `${id}.${issued}`,
      `${token}.extra`,
      `${id}.-1.${mac}`,
      "",
      "x".repeat(500),
    ]) {
      expect(isTrustedDevice(bad, account, now)).toBe(false);
    }
    expect(isTrustedDevice(undefined, account, now)).toBe(false);
  });
});
