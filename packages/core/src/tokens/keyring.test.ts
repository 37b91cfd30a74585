import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.ts";
import { SigningKeyError } from "./errors.ts";
import { jwksFromKeys } from "./jwks.ts";
import {
  activeSigningKey,
  pruneSigningKeys,
  retireSigningKey,
  rotateSigningKeys,
  signingKeyDroppableAt,
} from "./keyring.ts";
import { generateSigningKey, parseSigningKeyRecord } from "./signing-key.ts";

const T0 = Date.UTC(2026, 0, 1);
const at = (ms: number) => new Date(ms).toISOString();

describe("signing keys", () => {
  it("generates a serialisable Ed25519 record that survives a JSON round trip", () => {
    const key = generateSigningKey("k1", at(T0));
    expect(key).toMatchObject({ kid: "k1", created_at: at(T0), retired_at: null });
    expect(key.public_jwk).toEqual({ kty: "OKP", crv: "Ed25519", x: key.private_jwk.x });
    expect(Buffer.from(key.private_jwk.d, "base64url")).toHaveLength(32);
    expect(parseSigningKeyRecord(JSON.parse(JSON.stringify(key)))).toEqual(key);
    expect(generateSigningKey("k2", at(T0)).public_jwk.x).not.toBe(key.public_jwk.x);
  });

  it("refuses an empty kid or a bad timestamp", () => {
    expect(() => generateSigningKey("", at(T0))).toThrow(ValidationError);
    expect(() => generateSigningKey("k", "yesterday")).toThrow(ValidationError);
  });

  it("refuses a damaged record, above all one whose halves do not match", () => {
    const a = generateSigningKey("a", at(T0));
    const b = generateSigningKey("b", at(T0));
    const damaged: unknown[] = [
      null,
      { ...a, kid: "" },
      { ...a, created_at: "soon" },
      { ...a, retired_at: 5 },
      { ...a, public_jwk: { ...a.public_jwk, crv: "Ed448" } },
      { ...a, private_jwk: { ...a.private_jwk, d: "AAAA" } },
      { ...a, public_jwk: b.public_jwk },
      { ...a, private_jwk: { ...b.private_jwk, x: a.public_jwk.x } },
    ];
    for (const record of damaged) expect(() => parseSigningKeyRecord(record)).toThrow(SigningKeyError);
  });

  it("publishes only public members, retired keys included", () => {
    const active = generateSigningKey("new", at(T0 + 1000));
    const retired = retireSigningKey(generateSigningKey("old", at(T0)), at(T0 + 1000));
    const jwks = jwksFromKeys([retired, active]);
    expect(jwks.keys.map((k) => k.kid)).toEqual(["old", "new"]);
    for (const jwk of jwks.keys) {
      expect(Object.keys(jwk).sort()).toEqual(["alg", "crv", "kid", "kty", "use", "x"]);
      expect(jwk).toMatchObject({ alg: "EdDSA", use: "sig", kty: "OKP", crv: "Ed25519" });
    }
    expect(JSON.stringify(jwks)).not.toContain(active.private_jwk.d);
  });
});

describe("keyring rotation", () => {
  const old = generateSigningKey("old", at(T0));
  const next = generateSigningKey("next", at(T0 + 60_000));

  it("signs with the newest active key, and fails loudly when none is active", () => {
    expect(activeSigningKey([old, next]).kid).toBe("next");
    expect(activeSigningKey([next, old]).kid).toBe("next");
    expect(activeSigningKey([retireSigningKey(next, at(T0 + 1)), old]).kid).toBe("old");
    expect(() => activeSigningKey([retireSigningKey(old, at(T0))])).toThrow(SigningKeyError);
    expect(() => activeSigningKey([])).toThrow(SigningKeyError);
  });

  it("rotation retires every active key and hands signing to the new one", () => {
    const ring = rotateSigningKeys([old], next, at(T0 + 60_000));
    expect(ring.map((k) => [k.kid, k.retired_at])).toEqual([
      ["old", at(T0 + 60_000)],
      ["next", null],
    ]);
    expect(activeSigningKey(ring).kid).toBe("next");
    expect(() => rotateSigningKeys(ring, next, at(T0))).toThrow(SigningKeyError);
  });

  it("retiring twice keeps the first retirement time", () => {
    const once = retireSigningKey(old, at(T0 + 1000));
    expect(retireSigningKey(once, at(T0 + 9000)).retired_at).toBe(at(T0 + 1000));
  });

  it("a retired key may be dropped only after the longest token lifetime plus clock skew", () => {
    const retired = retireSigningKey(old, at(T0));
    expect(signingKeyDroppableAt(old, 3600)).toBeNull();
    expect(signingKeyDroppableAt(retired, 3600)).toBe(T0 + (3600 + 30) * 1000);
    expect(signingKeyDroppableAt(retired, 3600, 0)).toBe(T0 + 3600 * 1000);
    expect(() => signingKeyDroppableAt(retired, -1)).toThrow(ValidationError);

    const ring = [retired, next];
    expect(pruneSigningKeys(ring, T0 + 3_629_999, 3600).map((k) => k.kid)).toEqual(["old", "next"]);
    expect(pruneSigningKeys(ring, T0 + 3_630_000, 3600).map((k) => k.kid)).toEqual(["next"]);
  });
});
