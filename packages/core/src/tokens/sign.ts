import { sign } from "node:crypto";
import { canonicalize } from "../canonical-json.ts";
import { ValidationError } from "../errors.ts";
import { encodeBase64url } from "./base64url.ts";
import {
  APPROVAL_TOKEN_ALG,
  APPROVAL_TOKEN_TYPE,
  type ApprovalTokenClaims,
  type ApprovalTokenHeader,
  parseApprovalTokenClaims,
} from "./claims.ts";
import { SigningKeyError } from "./errors.ts";
import { privateKeyOf, type SigningKeyRecord } from "./signing-key.ts";

/**
 * Signs an approval token (JWS compact serialisation, EdDSA over Ed25519).
 *
 * Header and payload are written in canonical JSON so the same claims and key always give the
 * same token. Claims the verifier would refuse are refused here, so a bad token is never issued;
 * compute `args_hash` with `argsHash` over the arguments as finally approved.
 */
export function signApprovalToken(claims: ApprovalTokenClaims, activeKey: SigningKeyRecord): string {
  if (activeKey.retired_at !== null) {
    throw new SigningKeyError(`signing key ${activeKey.kid} is retired and must not sign new tokens`);
  }
  const parsed = parseApprovalTokenClaims(claims);
  if (!parsed.ok) {
    throw new ValidationError(
      `approval token claims are invalid: ${parsed.problems.join("; ")}`,
      parsed.problems.map((message) => ({ path: "claims", message })),
    );
  }
  const header: ApprovalTokenHeader = {
    alg: APPROVAL_TOKEN_ALG,
    typ: APPROVAL_TOKEN_TYPE,
    kid: activeKey.kid,
  };
  const signingInput = `${encodeBase64url(canonicalize(header))}.${encodeBase64url(canonicalize(parsed.claims))}`;
  // Ed25519 hashes internally, so node:crypto takes `null` as the digest algorithm.
  const signature = sign(null, Buffer.from(signingInput, "ascii"), privateKeyOf(activeKey));
  return `${signingInput}.${encodeBase64url(signature)}`;
}
