import { describe, expect, it } from "vitest";
import { hashPassword, needsRehash, passwordProblem, verifyPassword } from "./passwords.ts";

describe("passwords", () => {
  it("hash with scrypt and a fresh salt, and verify only the same password", async () => {
    const a = await hashPassword("correct horse battery staple");
    const b = await hashPassword("correct horse battery staple");
    expect(a).toMatch(/^scrypt\$15\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword("correct horse battery staple", a)).toBe(true);
    expect(await verifyPassword("correct horse battery stapler", a)).toBe(false);
    expect(await verifyPassword("correct horse battery staple", "garbage")).toBe(false);
  });

  it("treat canonically equivalent spellings as the same password", async () => {
    const composed = "caf\u00e9 au lait, s'il vous pla\u00eet";
    const decomposed = composed.normalize("NFD");
    expect(decomposed).not.toBe(composed);
    expect(await verifyPassword(decomposed, await hashPassword(composed))).toBe(true);
  });

  it("upgrade hashes made with weaker parameters", async () => {
    const weak = await hashPassword("correct horse battery staple", { logN: 10, r: 8, p: 1 });
    expect(await verifyPassword("correct horse battery staple", weak)).toBe(true);
    expect(needsRehash(weak)).toBe(true);
    expect(needsRehash(await hashPassword("correct horse battery staple"))).toBe(false);
  });

  it("refuse short passwords, the email itself, and single-character runs", () => {
    expect(passwordProblem("short", "a@example.com")).toMatch(/at least 12/);
    expect(passwordProblem("Ann@Example.com", "ann@example.com")).toMatch(/email/);
    expect(passwordProblem("aaaaaaaaaaaaaaaa", "a@example.com")).toMatch(/different characters/);
    expect(passwordProblem("a long enough passphrase", "a@example.com")).toBeNull();
  });
});
