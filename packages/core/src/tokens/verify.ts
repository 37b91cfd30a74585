import { createPublicKey, type KeyObject, verify } from "node:crypto";
import { ValidationError } from "../errors.ts";
import { argsHash } from "../hash.ts";
import { decodeBase64url } from "./base64url.ts";
import {
  APPROVAL_TOKEN_ALG,
  APPROVAL_TOKEN_TYPE,
  type ApprovalTokenClaims,
  DEFAULT_CLOCK_SKEW_SECONDS,
  MAX_APPROVAL_TOKEN_LENGTH,
  parseApprovalTokenClaims,
} from "./claims.ts";
import { ApprovalTokenError } from "./errors.ts";
import { findVerificationJwk, type JwksLike } from "./jwks.ts";

/** The call a token is presented for, and the verifier's current time. */
export interface ApprovalTokenCall {
  tool: string;
  /** The arguments about to run; hashed exactly as `argsHash` does (absent arguments hash as `{}`). */
  args: unknown;
  /** Milliseconds since the Unix epoch. */
  now: number;
  clockSkewSeconds?: number;
}

/**
 * The claims of a token that authorises exactly this call, or an `ApprovalTokenError` saying why
 * not. Checks run in an order that never trusts unverified content: the structure and algorithm,
 * then the key and signature, and only then what the signed claims say about time, tool and args.
 *
 * This does not check single use: consuming the `jti` is the server's job (`/v1/tokens/consume`).
 */
export function verifyApprovalToken(
  token: string,
  call: ApprovalTokenCall,
  jwks: JwksLike,
): ApprovalTokenClaims {
  const { kid, signingInput, signature, payload } = splitToken(token);

  const jwk = findVerificationJwk(jwks, kid);
  if (jwk === undefined) throw new ApprovalTokenError("unknown_key", `no Ed25519 verification key "${kid}"`);
  if (!verify(null, Buffer.from(signingInput, "ascii"), publicKeyOf(jwk.x), signature)) {
    throw new ApprovalTokenError("bad_signature", "approval token signature does not verify");
  }

  const parsed = parseApprovalTokenClaims(parseJsonSegment(payload, "payload"));
  if (!parsed.ok) {
    throw new ApprovalTokenError("malformed", `approval token claims: ${parsed.problems.join("; ")}`);
  }
  const claims = parsed.claims;

  const skewMs = (call.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS) * 1000;
  // A NaN time would make both comparisons below false, and so accept any token: fail closed.
  if (!Number.isFinite(call.now) || !Number.isFinite(skewMs) || skewMs < 0) {
    throw new ValidationError("now and clockSkewSeconds must be finite, and the skew not negative");
  }
  if (call.now + skewMs < claims.iat * 1000) {
    throw new ApprovalTokenError("not_yet_valid", "approval token is issued in the future");
  }
  // RFC 7519: the token must not be accepted on or after `exp`.
  if (call.now - skewMs >= claims.exp * 1000) {
    throw new ApprovalTokenError("expired", "approval token has expired");
  }
  if (claims.tool !== call.tool) {
    throw new ApprovalTokenError(
      "tool_mismatch",
      `approval token is for tool "${claims.tool}", not "${call.tool}"`,
    );
  }
  let presented: string;
  try {
    presented = argsHash(call.args);
  } catch (cause) {
    throw new ApprovalTokenError(
      "args_mismatch",
      "arguments cannot be canonicalised, so no token can match them",
      {
        cause,
      },
    );
  }
  if (presented !== claims.args_hash) {
    throw new ApprovalTokenError("args_mismatch", "arguments differ from the approved arguments");
  }
  return claims;
}

interface SplitToken {
  kid: string;
  signingInput: string;
  signature: Uint8Array;
  payload: Uint8Array;
}

function splitToken(token: string): SplitToken {
  if (typeof token !== "string" || token.length > MAX_APPROVAL_TOKEN_LENGTH) {
    throw new ApprovalTokenError("malformed", "approval token is not a string of sensible length");
  }
  const parts = token.split(".");
  if (parts.length !== 3)
    throw new ApprovalTokenError("malformed", "approval token must have three segments");
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeBase64url(headerPart);
  const payload = decodeBase64url(payloadPart);
  const signature = decodeBase64url(signaturePart);
  if (header === undefined || payload === undefined || signature === undefined) {
    throw new ApprovalTokenError("malformed", "approval token segments must be unpadded base64url");
  }
  const fields = parseJsonSegment(header, "header");
  if (typeof fields !== "object" || fields === null || Array.isArray(fields)) {
    throw new ApprovalTokenError("malformed", "approval token header must be a JSON object");
  }
  const { alg, typ, kid, crit } = fields as Record<string, unknown>;
  // Only EdDSA: never `none`, and never an algorithm chosen by whoever wrote the token.
  if (alg !== APPROVAL_TOKEN_ALG)
    throw new ApprovalTokenError("malformed", `alg must be ${APPROVAL_TOKEN_ALG}`);
  if (typ !== APPROVAL_TOKEN_TYPE)
    throw new ApprovalTokenError("malformed", `typ must be ${APPROVAL_TOKEN_TYPE}`);
  // RFC 7515 §4.1.11: extensions we do not understand must make the token invalid.
  if (crit !== undefined)
    throw new ApprovalTokenError("malformed", "crit header extensions are not supported");
  if (typeof kid !== "string" || kid.length === 0)
    throw new ApprovalTokenError("malformed", "kid is required");
  return { kid, signingInput: `${headerPart}.${payloadPart}`, signature, payload };
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function parseJsonSegment(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(utf8.decode(bytes));
  } catch (cause) {
    throw new ApprovalTokenError("malformed", `approval token ${what} is not UTF-8 JSON`, { cause });
  }
}

/** Parsed keys by their `x`, so verifying many tokens against one JWKS imports each key once. */
const publicKeys = new Map<string, KeyObject>();
const MAX_CACHED_KEYS = 64;

function publicKeyOf(x: string): KeyObject {
  let key = publicKeys.get(x);
  if (key === undefined) {
    key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" });
    if (publicKeys.size >= MAX_CACHED_KEYS) publicKeys.clear();
    publicKeys.set(x, key);
  }
  return key;
}
