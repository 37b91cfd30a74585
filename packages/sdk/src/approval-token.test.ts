import { webcrypto } from "node:crypto";
import {
  type ApprovalTokenClaims,
  argsHash as coreArgsHash,
  generateSigningKey,
  jwksFromKeys,
  retireSigningKey,
  rotateSigningKeys,
  signApprovalToken,
} from "@countersign/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toolArgsAndMutation } from "../../core/src/tokens/json-mutation.testkit.ts";
import {
  type ApprovalTokenErrorCode,
  ApprovalTokenVerificationError,
  argsHash,
  verifyApprovalToken,
} from "./approval-token.ts";

const T0 = Date.UTC(2026, 0, 1);
const key = generateSigningKey("k1", new Date(T0).toISOString());
const jwks = jwksFromKeys([key]);
const args = { amount: 120, currency: "EUR", to: "acct_42" };
const call = { tool: "refund", args };
const atT0 = { now: new Date(T0) };

function claims(overrides: Partial<ApprovalTokenClaims> = {}): ApprovalTokenClaims {
  return {
    iss: "countersign",
    jti: "tok_1",
    sub: "key_agent1",
    request_id: "req_1",
    agent_id: null,
    tool: "refund",
    args_hash: coreArgsHash(args),
    iat: T0 / 1000,
    exp: T0 / 1000 + 600,
    ...overrides,
  };
}

async function failure(run: () => Promise<unknown>): Promise<ApprovalTokenErrorCode> {
  try {
    await run();
  } catch (error) {
    if (error instanceof ApprovalTokenVerificationError) {
      expect(error.retryable).toBe(false);
      return error.code;
    }
    throw error;
  }
  throw new Error("expected the token to be refused");
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

describe("SDK offline verification of core-signed tokens", () => {
  it("verifies a token the core signed, for exactly the approved call", async () => {
    const token = signApprovalToken(claims({ run_id: "run_1", call_id: "c1" }), key);
    await expect(verifyApprovalToken(token, call, jwks, atT0)).resolves.toEqual(
      claims({ run_id: "run_1", call_id: "c1" }),
    );
  });

  it("hashes arguments exactly as the core does", async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ stringUnit: "binary" }), async (value) => {
        expect(await argsHash(value)).toBe(coreArgsHash(value));
      }),
    );
    expect(await argsHash(undefined)).toBe(coreArgsHash({}));
  });

  it("never verifies for arguments other than the approved ones", async () => {
    await fc.assert(
      fc.asyncProperty(toolArgsAndMutation, async ([approved, mutated]) => {
        const token = signApprovalToken(claims({ args_hash: coreArgsHash(approved) }), key);
        expect((await verifyApprovalToken(token, { tool: "refund", args: approved }, jwks, atT0)).jti).toBe(
          "tok_1",
        );
        expect(
          await failure(() => verifyApprovalToken(token, { tool: "refund", args: mutated }, jwks, atT0)),
        ).toBe("args_mismatch");
      }),
    );
  });

  it("refuses arguments that cannot be canonicalised as a mismatch", async () => {
    const token = signApprovalToken(claims(), key);
    const bad = { tool: "refund", args: { amount: Number.POSITIVE_INFINITY } };
    expect(await failure(() => verifyApprovalToken(token, bad, jwks, atT0))).toBe("args_mismatch");
  });

  it("refuses another tool", async () => {
    const token = signApprovalToken(claims(), key);
    expect(await failure(() => verifyApprovalToken(token, { tool: "delete", args }, jwks, atT0))).toBe(
      "tool_mismatch",
    );
  });

  it("expires at exp, after the clock skew allowance; is not valid before iat", async () => {
    const token = signApprovalToken(claims(), key);
    const exp = T0 + 600_000;
    const at = (ms: number, clockSkewSeconds?: number) => ({ now: new Date(ms), clockSkewSeconds });
    expect((await verifyApprovalToken(token, call, jwks, at(exp + 29_999))).jti).toBe("tok_1");
    expect(await failure(() => verifyApprovalToken(token, call, jwks, at(exp + 30_000)))).toBe("expired");
    expect(await failure(() => verifyApprovalToken(token, call, jwks, at(exp, 0)))).toBe("expired");
    expect(await failure(() => verifyApprovalToken(token, call, jwks, at(T0 - 30_001)))).toBe(
      "not_yet_valid",
    );
  });

  it("defaults to the current time", async () => {
    const nowSeconds = Math.floor(Date.now() / 1000);
    const live = signApprovalToken(claims({ iat: nowSeconds, exp: nowSeconds + 600 }), key);
    expect((await verifyApprovalToken(live, call, jwks)).jti).toBe("tok_1");
    const old = signApprovalToken(claims({ iat: 1000, exp: 2000 }), key);
    expect(await failure(() => verifyApprovalToken(old, call, jwks))).toBe("expired");
  });

  it("fails closed on an invalid clock or skew", async () => {
    const token = signApprovalToken(claims(), key);
    for (const bad of [{ now: new Date("not a date") }, { ...atT0, clockSkewSeconds: -5 }]) {
      await expect(verifyApprovalToken(token, call, jwks, bad)).rejects.toThrow(RangeError);
    }
  });

  it("refuses a token with any signature byte flipped", async () => {
    const [h, p, s] = signApprovalToken(claims(), key).split(".") as [string, string, string];
    const signature = Buffer.from(s, "base64url");
    for (let i = 0; i < signature.length; i++) {
      const flipped = Buffer.from(signature);
      flipped[i] = (flipped[i] ?? 0) ^ 0x80;
      const forged = `${h}.${p}.${flipped.toString("base64url")}`;
      expect(await failure(() => verifyApprovalToken(forged, call, jwks, atT0))).toBe("bad_signature");
    }
    // Canonically spelled, but not 64 bytes long.
    const resizings = [
      signature.subarray(0, 63),
      Buffer.concat([signature, Buffer.from([0])]),
      Buffer.alloc(0),
    ];
    for (const resized of resizings.map((bytes) => bytes.toString("base64url"))) {
      expect(await failure(() => verifyApprovalToken(`${h}.${p}.${resized}`, call, jwks, atT0))).toBe(
        "bad_signature",
      );
    }
  });

  it("refuses alg none and any other algorithm", async () => {
    const payload = b64(claims());
    for (const alg of ["none", "HS256", "RS256", "Ed25519", null]) {
      const header = b64({ alg, typ: "countersign-approval+jwt", kid: "k1" });
      for (const forged of [`${header}.${payload}.`, `${header}.${payload}.${b64("x")}`]) {
        expect(await failure(() => verifyApprovalToken(forged, call, jwks, atT0))).toBe("malformed");
      }
    }
  });

  it("refuses an unknown kid, and keys not published for EdDSA signatures", async () => {
    const other = generateSigningKey("k2", new Date(T0).toISOString());
    const token = signApprovalToken(claims(), other);
    expect(await failure(() => verifyApprovalToken(token, call, jwks, atT0))).toBe("unknown_key");
    const [published] = jwksFromKeys([other]).keys;
    for (const wrong of [{ alg: "ES256" }, { use: "enc" }, { kty: "EC" }, { x: `${published?.x}A` }]) {
      const set = { keys: [{ ...published, ...wrong }] };
      expect(await failure(() => verifyApprovalToken(token, call, set, atT0))).toBe("unknown_key");
    }
    // A WebCrypto-shaped JWK (as fetched and typed `JsonWebKey`) is accepted.
    const fetched: { keys: JsonWebKey[] } = JSON.parse(JSON.stringify(jwksFromKeys([other])));
    expect((await verifyApprovalToken(token, call, fetched, atT0)).jti).toBe("tok_1");
  });

  it("refuses structurally broken tokens and non-canonical encodings as malformed", async () => {
    const token = signApprovalToken(claims(), key);
    const [h, p, s] = token.split(".") as [string, string, string];
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const respelled = `${s.slice(0, -1)}${alphabet[alphabet.indexOf(s.at(-1) ?? "") ^ 1]}`;
    const broken = [
      "",
      "a.b",
      `${token}.x`,
      `${h}.${p}.${s}==`,
      `${h}.${p}/.${s}`,
      `${h}.${p}.${respelled}`,
      `${b64([1])}.${p}.${s}`,
      `${Buffer.from([0xff, 0xfe]).toString("base64url")}.${p}.${s}`,
      `${b64({ alg: "EdDSA", typ: "countersign-approval+jwt", kid: "k1", crit: ["b64"] })}.${p}.${s}`,
      `${b64({ alg: "EdDSA", typ: "JWT", kid: "k1" })}.${p}.${s}`,
    ];
    for (const forged of broken) {
      expect(await failure(() => verifyApprovalToken(forged, call, jwks, atT0))).toBe("malformed");
    }
  });

  it("refuses a signed payload whose claims are invalid", async () => {
    // Only the key holder can produce this; the SDK still type-checks what it returns.
    const { createPrivateKey, sign } = await import("node:crypto");
    const header = b64({ alg: "EdDSA", typ: "countersign-approval+jwt", kid: "k1" });
    const privateKey = createPrivateKey({ key: { ...key.private_jwk }, format: "jwk" });
    for (const payload of [
      { ...claims(), exp: "later" },
      { ...claims(), tool: 7 },
      { ...claims(), args_hash: "md5:x" },
    ]) {
      const input = `${header}.${b64(payload)}`;
      const forged = `${input}.${sign(null, Buffer.from(input), privateKey).toString("base64url")}`;
      expect(await failure(() => verifyApprovalToken(forged, call, jwks, atT0))).toBe("malformed");
    }
  });

  it("a token signed by a retired key verifies while that key is in the JWKS", async () => {
    const old = generateSigningKey("old", new Date(T0).toISOString());
    const token = signApprovalToken(claims(), old);
    const next = generateSigningKey("new", new Date(T0 + 1000).toISOString());
    const ring = rotateSigningKeys([old], next, new Date(T0 + 1000).toISOString());
    expect((await verifyApprovalToken(token, call, jwksFromKeys(ring), atT0)).jti).toBe("tok_1");
    expect(await failure(() => verifyApprovalToken(token, call, jwksFromKeys([next]), atT0))).toBe(
      "unknown_key",
    );
    expect(() => signApprovalToken(claims(), retireSigningKey(next, new Date(T0).toISOString()))).toThrow();
  });

  it("uses an injected WebCrypto, and reports a runtime without Ed25519", async () => {
    const token = signApprovalToken(claims(), key);
    const subtle = webcrypto.subtle as SubtleCrypto;
    expect((await verifyApprovalToken(token, call, jwks, { ...atT0, subtle })).jti).toBe("tok_1");
    const noEd25519 = Object.create(subtle, {
      importKey: {
        value: async () => {
          throw new DOMException("Unrecognized algorithm name", "NotSupportedError");
        },
      },
    }) as SubtleCrypto;
    expect(await failure(() => verifyApprovalToken(token, call, jwks, { ...atT0, subtle: noEd25519 }))).toBe(
      "unsupported_runtime",
    );
  });
});
