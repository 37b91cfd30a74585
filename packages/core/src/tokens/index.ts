export {
  APPROVAL_TOKEN_ALG,
  APPROVAL_TOKEN_TYPE,
  type ApprovalTokenClaims,
  type ApprovalTokenHeader,
  DEFAULT_CLOCK_SKEW_SECONDS,
  MAX_APPROVAL_TOKEN_LENGTH,
  parseApprovalTokenClaims,
} from "./claims.ts";
export {
  APPROVAL_TOKEN_ERROR_CODES,
  ApprovalTokenError,
  type ApprovalTokenErrorCode,
  SigningKeyError,
} from "./errors.ts";
export {
  findVerificationJwk,
  type JwkLike,
  type Jwks,
  type JwksLike,
  jwksFromKeys,
  type PublishedJwk,
} from "./jwks.ts";
export {
  activeSigningKey,
  pruneSigningKeys,
  retireSigningKey,
  rotateSigningKeys,
  signingKeyDroppableAt,
} from "./keyring.ts";
export { signApprovalToken } from "./sign.ts";
export {
  type Ed25519PrivateJwk,
  type Ed25519PublicJwk,
  generateSigningKey,
  type PublishedSigningKey,
  parsePublishedSigningKey,
  parseSigningKeyRecord,
  type SigningKeyRecord,
} from "./signing-key.ts";
export { type ApprovalTokenCall, verifyApprovalToken } from "./verify.ts";
