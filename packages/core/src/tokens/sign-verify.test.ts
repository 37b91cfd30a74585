import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalize } from "../canonical-json.ts";
import { ValidationError } from "../errors.ts";
import { argsHash } from "../hash.ts";
import type { ApprovalTokenClaims } from "./claims.ts";
import { ApprovalTokenError, type ApprovalTokenErrorCode, SigningKeyError } from "./errors.ts";
import { toolArgsAndMutation } from "./json-mutation.testkit.ts";
import { jwksFromKeys } from "./jwks.ts";
import { retireSigningKey, rotateSigningKeys } from "./keyring.ts";
import { signApprovalToken } from "./sign.ts";
import { generateSigningKey } from "./signing-key.ts";
import { verifyApprovalToken } from "./verify.ts";

const T0 = Date.UTC(2026, 0, 1);
const key = generateSigningKey("k1", new Date(T0).toISOString());
const jwks = jwksFromKeys([key]);
const args = { amount: 120, currency: "EUR", to: "acct_42" };

function claims(overrides: Partial<ApprovalTokenClaims> = {}): ApprovalTokenClaims {
  return {
    iss: "https://countersign.example",
    jti: "tok_1",
    sub: "key_agent1",
    request_id: "req_1",
    agent_id: "billing-bot",
    tool: "refund",
    args_hash: argsHash(args),
    iat: T0 / 1000,
    exp: T0 / 1000 + 600,
    run_id: "run_1",
    call_id: "call_1",
    ...overrides,
  };
}

function failure(run: () => unknown): ApprovalTokenErrorCode {
  try {
    run();
  } catch (error) {
    if (error instanceof ApprovalTokenError) return error.code;
    throw error;
  }
  throw new Error("expected the token to be refused");
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

describe("approval tokens: sign and verify", () => {
  it("verifies for exactly the approved call and returns the claims", () => {
    const token = signApprovalToken(claims(), key);
    expect(token.split(".")).toHaveLength(3);
    const header = JSON.parse(Buffer.from(token.split(".")[0] ?? "", "base64url").toString());
    expect(header).toEqual({ alg: "EdDSA", typ: "countersign-approval+jwt", kid: "k1" });
    expect(verifyApprovalToken(token, { tool: "refund", args, now: T0 + 1000 }, jwks)).toEqual(claims());
  });

  it("matches arguments by canonical form, not by key order", () => {
    const token = signApprovalToken(claims(), key);
    const reordered = { to: "acct_42", currency: "EUR", amount: 120 };
    expect(verifyApprovalToken(token, { tool: "refund", args: reordered, now: T0 }, jwks).jti).toBe("tok_1");
  });

  it("is deterministic for the same claims and key", () => {
    expect(signApprovalToken(claims(), key)).toBe(signApprovalToken(claims(), key));
  });

  it("never verifies for arguments other than the approved ones", () => {
    fc.assert(
      fc.property(toolArgsAndMutation, ([approved, mutated]) => {
        expect(canonicalize(mutated)).not.toBe(canonicalize(approved));
        const token = signApprovalToken(claims({ args_hash: argsHash(approved) }), key);
        expect(verifyApprovalToken(token, { tool: "refund", args: approved, now: T0 }, jwks).args_hash).toBe(
          argsHash(approved),
        );
        expect(
          failure(() => verifyApprovalToken(token, { tool: "refund", args: mutated, now: T0 }, jwks)),
        ).toBe("args_mismatch");
      }),
    );
  });

  it("refuses arguments that cannot be canonicalised as a mismatch", () => {
    const token = signApprovalToken(claims(), key);
    expect(
      failure(() =>
        verifyApprovalToken(token, { tool: "refund", args: { amount: Number.NaN }, now: T0 }, jwks),
      ),
    ).toBe("args_mismatch");
  });

  it("refuses another tool", () => {
    const token = signApprovalToken(claims(), key);
    expect(failure(() => verifyApprovalToken(token, { tool: "refund_all", args, now: T0 }, jwks))).toBe(
      "tool_mismatch",
    );
  });

  it("expires at exp, after the clock skew allowance", () => {
    const token = signApprovalToken(claims(), key);
    const exp = (T0 / 1000 + 600) * 1000;
    expect(verifyApprovalToken(token, { tool: "refund", args, now: exp + 29_999 }, jwks).jti).toBe("tok_1");
    expect(failure(() => verifyApprovalToken(token, { tool: "refund", args, now: exp + 30_000 }, jwks))).toBe(
      "expired",
    );
    expect(
      failure(() =>
        verifyApprovalToken(token, { tool: "refund", args, now: exp, clockSkewSeconds: 0 }, jwks),
      ),
    ).toBe("expired");
  });

  it("is not valid before iat, beyond the clock skew allowance", () => {
    const token = signApprovalToken(claims(), key);
    expect(verifyApprovalToken(token, { tool: "refund", args, now: T0 - 30_000 }, jwks).jti).toBe("tok_1");
    expect(failure(() => verifyApprovalToken(token, { tool: "refund", args, now: T0 - 30_001 }, jwks))).toBe(
      "not_yet_valid",
    );
  });

  it("fails closed on an invalid clock or skew", () => {
    const token = signApprovalToken(claims(), key);
    for (const bad of [
      { now: Number.NaN },
      { now: T0, clockSkewSeconds: Number.NaN },
      { now: T0, clockSkewSeconds: -1 },
    ]) {
      expect(() => verifyApprovalToken(token, { tool: "refund", args, ...bad }, jwks)).toThrow(
        ValidationError,
      );
    }
  });

  it("refuses a token with any signature byte flipped", () => {
    const token = signApprovalToken(claims(), key);
    const [h, p, s] = token.split(".") as [string, string, string];
    const signature = Buffer.from(s, "base64url");
    for (let i = 0; i < signature.length; i++) {
      const flipped = Buffer.from(signature);
      flipped[i] = (flipped[i] ?? 0) ^ 0x01;
      const forged = `${h}.${p}.${flipped.toString("base64url")}`;
      expect(failure(() => verifyApprovalToken(forged, { tool: "refund", args, now: T0 }, jwks))).toBe(
        "bad_signature",
      );
    }
    // Canonically spelled, but not 64 bytes long.
    const resizings = [
      signature.subarray(0, 63),
      Buffer.concat([signature, Buffer.from([0])]),
      Buffer.alloc(0),
    ];
    for (const resized of resizings.map((bytes) => bytes.toString("base64url"))) {
      const forged = `${h}.${p}.${resized}`;
      expect(failure(() => verifyApprovalToken(forged, { tool: "refund", args, now: T0 }, jwks))).toBe(
        "bad_signature",
      );
    }
  });

  it("refuses a payload changed after signing", () => {
    const [h, , s] = signApprovalToken(claims(), key).split(".") as [string, string, string];
    const forged = `${h}.${b64(claims({ exp: T0 / 1000 + 86_400 }))}.${s}`;
    expect(failure(() => verifyApprovalToken(forged, { tool: "refund", args, now: T0 }, jwks))).toBe(
      "bad_signature",
    );
  });

  it("refuses alg none and any other algorithm", () => {
    const payload = b64(claims());
    for (const alg of ["none", "HS256", "ES256", "eddsa", undefined]) {
      const header = b64({ alg, typ: "countersign-approval+jwt", kid: "k1" });
      for (const forged of [`${header}.${payload}.`, `${header}.${payload}.${b64("x")}`]) {
        expect(failure(() => verifyApprovalToken(forged, { tool: "refund", args, now: T0 }, jwks))).toBe(
          "malformed",
        );
      }
    }
  });

  it("refuses another typ and critical header extensions", () => {
    const [, p, s] = signApprovalToken(claims(), key).split(".") as [string, string, string];
    for (const header of [
      { alg: "EdDSA", typ: "JWT", kid: "k1" },
      { alg: "EdDSA", kid: "k1" },
      { alg: "EdDSA", typ: "countersign-approval+jwt", kid: "k1", crit: ["exp"] },
      { alg: "EdDSA", typ: "countersign-approval+jwt" },
    ]) {
      expect(
        failure(() =>
          verifyApprovalToken(`${b64(header)}.${p}.${s}`, { tool: "refund", args, now: T0 }, jwks),
        ),
      ).toBe("malformed");
    }
  });

  it("refuses an unknown kid, and a key published for another algorithm or use", () => {
    const other = generateSigningKey("k2", new Date(T0).toISOString());
    const token = signApprovalToken(claims(), other);
    expect(failure(() => verifyApprovalToken(token, { tool: "refund", args, now: T0 }, jwks))).toBe(
      "unknown_key",
    );
    const [published] = jwksFromKeys([other]).keys;
    for (const wrong of [{ alg: "ES256" }, { use: "enc" }, { crv: "Ed448" }, { x: "AAAA" }]) {
      const set = { keys: [{ ...published, ...wrong }] };
      expect(failure(() => verifyApprovalToken(token, { tool: "refund", args, now: T0 }, set))).toBe(
        "unknown_key",
      );
    }
  });

  it("refuses a token signed by another key published under the same kid", () => {
    const impostor = generateSigningKey("k1", new Date(T0).toISOString());
    const token = signApprovalToken(claims(), impostor);
    expect(failure(() => verifyApprovalToken(token, { tool: "refund", args, now: T0 }, jwks))).toBe(
      "bad_signature",
    );
  });

  it("refuses structurally broken tokens as malformed", () => {
    const token = signApprovalToken(claims(), key);
    const [h, p, s] = token.split(".") as [string, string, string];
    const broken = [
      "",
      "a.b",
      `${token}.x`,
      `${h}=.${p}.${s}`,
      `${h}.${p}.${s}=`,
      `${h}.${p}+.${s}`,
      `${b64("not an object")}.${p}.${s}`,
      `${Buffer.from("{not json").toString("base64url")}.${p}.${s}`,
      `${h}.${p}.${s}${"A".repeat(9000)}`,
    ];
    for (const forged of broken) {
      expect(failure(() => verifyApprovalToken(forged, { tool: "refund", args, now: T0 }, jwks))).toBe(
        "malformed",
      );
    }
  });

  it("refuses a second spelling of the same signature bytes", () => {
    const token = signApprovalToken(claims(), key);
    const last = token.at(-1) ?? "";
    // 64 signature bytes leave 4 unused bits in the last character; setting one keeps the bytes.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const respelled = `${token.slice(0, -1)}${alphabet[alphabet.indexOf(last) ^ 1]}`;
    expect(respelled).not.toBe(token);
    expect(Buffer.from(respelled.split(".")[2] ?? "", "base64url")).toEqual(
      Buffer.from(token.split(".")[2] ?? "", "base64url"),
    );
    expect(failure(() => verifyApprovalToken(respelled, { tool: "refund", args, now: T0 }, jwks))).toBe(
      "malformed",
    );
  });

  it("refuses to sign claims the verifier would refuse", () => {
    for (const bad of [
      { tool: "" },
      { args_hash: "sha256:XYZ" },
      { exp: T0 / 1000 },
      { iat: 1.5 },
      { agent_id: "" },
      { run_id: "" },
    ] as Partial<ApprovalTokenClaims>[]) {
      expect(() => signApprovalToken(claims(bad), key)).toThrow(ValidationError);
    }
  });

  it("drops unknown claims instead of signing them", () => {
    const token = signApprovalToken({ ...claims(), extra: "x" } as ApprovalTokenClaims, key);
    expect(verifyApprovalToken(token, { tool: "refund", args, now: T0 }, jwks)).not.toHaveProperty("extra");
  });

  it("errors carry status and are not retryable", () => {
    const token = signApprovalToken(claims(), key);
    try {
      verifyApprovalToken(token, { tool: "other", args, now: T0 }, jwks);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ApprovalTokenError);
      expect(error).toMatchObject({
        code: "tool_mismatch",
        status: 403,
        retryable: false,
        name: "ApprovalTokenError",
      });
    }
    try {
      verifyApprovalToken("x", { tool: "refund", args, now: T0 }, jwks);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: "malformed", status: 400 });
    }
  });
});

describe("approval tokens: rotation", () => {
  it("a retired key no longer signs", () => {
    const retired = retireSigningKey(key, new Date(T0).toISOString());
    expect(() => signApprovalToken(claims(), retired)).toThrow(SigningKeyError);
  });

  it("a token signed before rotation verifies while its retired key is published", () => {
    const old = generateSigningKey("old", new Date(T0).toISOString());
    const token = signApprovalToken(claims(), old);
    const next = generateSigningKey("new", new Date(T0 + 60_000).toISOString());
    const ring = rotateSigningKeys([old], next, new Date(T0 + 60_000).toISOString());
    expect(ring.find((k) => k.kid === "old")?.retired_at).not.toBeNull();
    const call = { tool: "refund", args, now: T0 + 120_000 };
    expect(verifyApprovalToken(token, call, jwksFromKeys(ring)).jti).toBe("tok_1");
    const fresh = signApprovalToken(claims({ jti: "tok_2" }), next);
    expect(verifyApprovalToken(fresh, call, jwksFromKeys(ring)).jti).toBe("tok_2");
    // Once the retired key is dropped from the JWKS, its tokens stop verifying.
    expect(failure(() => verifyApprovalToken(token, call, jwksFromKeys([next])))).toBe("unknown_key");
  });
});
