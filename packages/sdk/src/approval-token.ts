import { canonicalize } from "./canonical-json.ts";

/*
 * Offline verification of Countersign approval tokens: an agent (or the system executing its tool
 * call) can check that a call was approved, for exactly these arguments, using only the server's
 * published keys (`GET /.well-known/jwks.json`). Uses WebCrypto only, so it runs wherever the SDK
 * does; Ed25519 in WebCrypto needs Node ≥18.4 (global `crypto` from Node 19, or pass `subtle`),
 * Deno, Bun, Chrome ≥137, Firefox ≥129 or Safari ≥17.
 *
 * The rules match @countersign/core's verifier, which has the same error codes.
 * Single use is not checked here; consume the token at the server when that matters.
 */

/** What an approval token says; see docs/approval-tokens.md. */
export interface ApprovalTokenClaims {
  iss: string;
  jti: string;
  /** The id of the agent key the approval was issued to. */
  sub: string;
  request_id: string;
  /** The agent id the caller claimed when asking (`sub` is the verified identity). */
  agent_id: string | null;
  tool: string;
  /** `sha256:<hex>` over the RFC 8785 form of the approved arguments. */
  args_hash: string;
  /** Seconds since the Unix epoch. */
  iat: number;
  /** Seconds since the Unix epoch. */
  exp: number;
  run_id?: string;
  call_id?: string;
}

export type ApprovalTokenErrorCode =
  | "malformed"
  | "unknown_key"
  | "bad_signature"
  | "expired"
  | "not_yet_valid"
  | "tool_mismatch"
  | "args_mismatch"
  /** This runtime has no WebCrypto Ed25519; verify at the server instead. */
  | "unsupported_runtime";

/** The token does not authorise the call. Retrying the same verification cannot succeed. */
export class ApprovalTokenVerificationError extends Error {
  readonly code: ApprovalTokenErrorCode;
  readonly retryable = false;

  constructor(code: ApprovalTokenErrorCode, message: string, options?: { cause?: unknown }) {
    super(message);
    this.name = "ApprovalTokenVerificationError";
    this.code = code;
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/** A JWK as found in a JWKS; only Ed25519 signature keys are used, any others are skipped. */
export interface ApprovalTokenJwk {
  kid?: string;
  kty?: string;
  crv?: string;
  x?: string;
  alg?: string;
  use?: string;
}

export interface VerifyApprovalTokenOptions {
  /** The verifier's current time; defaults to now. */
  now?: Date;
  /** Tolerated clock difference from the server; defaults to 30 seconds, as on the server. */
  clockSkewSeconds?: number;
  /** WebCrypto to use where `globalThis.crypto` is absent (Node 18: `require("node:crypto").webcrypto.subtle`). */
  subtle?: SubtleCrypto;
}

const TOKEN_TYPE = "countersign-approval+jwt";
const TOKEN_ALG = "EdDSA";
const DEFAULT_CLOCK_SKEW_SECONDS = 30;
const MAX_TOKEN_LENGTH = 8192;

/** The hash an approval binds to: `sha256:` + hex SHA-256 of the RFC 8785 form (absent args hash as `{}`). */
export async function argsHash(args: unknown, subtle: SubtleCrypto = defaultSubtle()): Promise<string> {
  const digest = await subtle.digest("SHA-256", new TextEncoder().encode(canonicalize(args ?? {})));
  let hex = "";
  for (const byte of new Uint8Array(digest)) hex += byte.toString(16).padStart(2, "0");
  return `sha256:${hex}`;
}

/**
 * The claims of `token` if it authorises exactly `call` now; otherwise throws
 * `ApprovalTokenVerificationError`. Nothing the token says is trusted before its signature verifies.
 */
export async function verifyApprovalToken(
  token: string,
  call: { tool: string; args: unknown },
  jwks: { keys: readonly ApprovalTokenJwk[] },
  options: VerifyApprovalTokenOptions = {},
): Promise<ApprovalTokenClaims> {
  const subtle = options.subtle ?? defaultSubtle();
  const { kid, signingInput, signature, payload } = splitToken(token);

  const x = findKey(jwks, kid);
  if (x === undefined)
    throw new ApprovalTokenVerificationError("unknown_key", `no Ed25519 verification key "${kid}"`);
  let key: CryptoKey;
  try {
    key = await subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", x }, { name: "Ed25519" }, false, [
      "verify",
    ]);
  } catch (cause) {
    if (cause instanceof Error && cause.name === "NotSupportedError") {
      throw new ApprovalTokenVerificationError(
        "unsupported_runtime",
        "this runtime's WebCrypto lacks Ed25519",
        {
          cause,
        },
      );
    }
    throw new ApprovalTokenVerificationError("unknown_key", `key "${kid}" cannot be imported`, { cause });
  }
  let valid: boolean;
  try {
    valid = await subtle.verify({ name: "Ed25519" }, key, signature, new TextEncoder().encode(signingInput));
  } catch (cause) {
    throw new ApprovalTokenVerificationError("bad_signature", "approval token signature cannot be checked", {
      cause,
    });
  }
  if (!valid)
    throw new ApprovalTokenVerificationError("bad_signature", "approval token signature does not verify");

  const claims = parseClaims(parseJson(payload, "payload"));
  const now = (options.now ?? new Date()).getTime();
  const skewMs = (options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS) * 1000;
  // An invalid Date gives NaN, which would make both comparisons below false: fail closed.
  if (!Number.isFinite(now) || !Number.isFinite(skewMs) || skewMs < 0) {
    throw new RangeError("options.now must be a valid Date and clockSkewSeconds a non-negative number");
  }
  if (now + skewMs < claims.iat * 1000) {
    throw new ApprovalTokenVerificationError("not_yet_valid", "approval token is issued in the future");
  }
  // RFC 7519: the token must not be accepted on or after `exp`.
  if (now - skewMs >= claims.exp * 1000) {
    throw new ApprovalTokenVerificationError("expired", "approval token has expired");
  }
  if (claims.tool !== call.tool) {
    throw new ApprovalTokenVerificationError(
      "tool_mismatch",
      `approval token is for tool "${claims.tool}", not "${call.tool}"`,
    );
  }
  let presented: string;
  try {
    presented = await argsHash(call.args, subtle);
  } catch (cause) {
    throw new ApprovalTokenVerificationError(
      "args_mismatch",
      "arguments cannot be canonicalised, so no token can match them",
      { cause },
    );
  }
  if (presented !== claims.args_hash) {
    throw new ApprovalTokenVerificationError("args_mismatch", "arguments differ from the approved arguments");
  }
  return claims;
}

function defaultSubtle(): SubtleCrypto {
  const subtle = globalThis.crypto?.subtle;
  if (subtle === undefined) {
    throw new ApprovalTokenVerificationError(
      "unsupported_runtime",
      "no globalThis.crypto.subtle here; pass options.subtle",
    );
  }
  return subtle;
}

function malformed(message: string, cause?: unknown): ApprovalTokenVerificationError {
  return new ApprovalTokenVerificationError("malformed", message, { cause });
}

interface SplitToken {
  kid: string;
  signingInput: string;
  signature: Uint8Array<ArrayBuffer>;
  payload: Uint8Array<ArrayBuffer>;
}

function splitToken(token: string): SplitToken {
  if (typeof token !== "string" || token.length > MAX_TOKEN_LENGTH) {
    throw malformed("approval token is not a string of sensible length");
  }
  const parts = token.split(".");
  if (parts.length !== 3) throw malformed("approval token must have three segments");
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeBase64url(headerPart);
  const payload = decodeBase64url(payloadPart);
  const signature = decodeBase64url(signaturePart);
  if (header === undefined || payload === undefined || signature === undefined) {
    throw malformed("approval token segments must be unpadded base64url");
  }
  const fields = parseJson(header, "header");
  if (typeof fields !== "object" || fields === null || Array.isArray(fields)) {
    throw malformed("approval token header must be a JSON object");
  }
  const { alg, typ, kid, crit } = fields as Record<string, unknown>;
  // Only EdDSA: never `none`, and never an algorithm chosen by whoever wrote the token.
  if (alg !== TOKEN_ALG) throw malformed(`alg must be ${TOKEN_ALG}`);
  if (typ !== TOKEN_TYPE) throw malformed(`typ must be ${TOKEN_TYPE}`);
  // RFC 7515 §4.1.11: extensions we do not understand must make the token invalid.
  if (crit !== undefined) throw malformed("crit header extensions are not supported");
  if (typeof kid !== "string" || kid.length === 0) throw malformed("kid is required");
  return { kid, signingInput: `${headerPart}.${payloadPart}`, signature, payload };
}

function findKey(jwks: { keys: readonly ApprovalTokenJwk[] }, kid: string): string | undefined {
  for (const jwk of jwks.keys) {
    if (jwk.kid !== kid || jwk.kty !== "OKP" || jwk.crv !== "Ed25519") continue;
    // A key published for another algorithm or use must not verify approval tokens.
    if (jwk.alg !== undefined && jwk.alg !== TOKEN_ALG) continue;
    if (jwk.use !== undefined && jwk.use !== "sig") continue;
    if (typeof jwk.x !== "string" || decodeBase64url(jwk.x)?.length !== 32) continue;
    return jwk.x;
  }
  return undefined;
}

function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (cause) {
    throw malformed(`approval token ${what} is not UTF-8 JSON`, cause);
  }
}

const ARGS_HASH_PATTERN = /^sha256:[0-9a-f]{64}$/;

/** The known claims, type-checked; unknown claims are dropped so newer servers can add some. */
function parseClaims(value: unknown): ApprovalTokenClaims {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw malformed("approval token claims must be a JSON object");
  }
  const input = value as Record<string, unknown>;
  const text = (name: string): string => {
    const item = input[name];
    if (typeof item !== "string" || item.length === 0) throw malformed(`${name} must be a non-empty string`);
    return item;
  };
  const seconds = (name: string): number => {
    const item = input[name];
    if (typeof item !== "number" || !Number.isSafeInteger(item) || item < 0) {
      throw malformed(`${name} must be a non-negative integer (seconds)`);
    }
    return item;
  };
  const claims: ApprovalTokenClaims = {
    iss: text("iss"),
    jti: text("jti"),
    sub: text("sub"),
    request_id: text("request_id"),
    agent_id: input.agent_id === null ? null : text("agent_id"),
    tool: text("tool"),
    args_hash: text("args_hash"),
    iat: seconds("iat"),
    exp: seconds("exp"),
  };
  if (!ARGS_HASH_PATTERN.test(claims.args_hash))
    throw malformed("args_hash must be sha256:<64 lowercase hex digits>");
  if (claims.exp <= claims.iat) throw malformed("exp must be after iat");
  if (input.run_id !== undefined) claims.run_id = text("run_id");
  if (input.call_id !== undefined) claims.call_id = text("call_id");
  return claims;
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const SEXTETS = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) SEXTETS[ALPHABET.charCodeAt(i)] = i;

/**
 * Strict unpadded base64url: `undefined` for any other character, padding, an impossible length,
 * or non-zero leftover bits, so each segment has exactly one spelling (no second valid token string).
 */
function decodeBase64url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (text.length % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let buffer = 0;
  let bits = 0;
  let written = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const sextet = code < 128 ? (SEXTETS[code] ?? -1) : -1;
    if (sextet < 0) return undefined;
    buffer = ((buffer << 6) | sextet) & 0xffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[written++] = (buffer >> bits) & 0xff;
    }
  }
  if ((buffer & ((1 << bits) - 1)) !== 0) return undefined;
  return out;
}
