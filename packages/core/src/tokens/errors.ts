import { DomainError } from "../errors.ts";

/**
 * Why an approval token does not authorise a call. The codes are shared with the SDK's offline
 * verifier so an agent sees the same reason whether it asked the server or checked locally.
 */
export const APPROVAL_TOKEN_ERROR_CODES = [
  "malformed",
  "unknown_key",
  "bad_signature",
  "expired",
  "not_yet_valid",
  "tool_mismatch",
  "args_mismatch",
] as const;
export type ApprovalTokenErrorCode = (typeof APPROVAL_TOKEN_ERROR_CODES)[number];

/**
 * A token that does not authorise the call it was presented with. Never retryable: the same token
 * with the same call fails the same way (an expired token stays expired).
 *
 * A malformed token is bad input (400); every other failure means "this token does not permit
 * this call" (403), which is a refusal, not a missing credential.
 */
export class ApprovalTokenError extends DomainError {
  readonly status: number;
  readonly code: ApprovalTokenErrorCode;

  constructor(code: ApprovalTokenErrorCode, message: string, options?: { cause?: unknown }) {
    super(message);
    this.code = code;
    this.status = code === "malformed" ? 400 : 403;
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/**
 * The server's own signing key cannot be used (retired, or its record is damaged). A
 * configuration fault on the issuing side, never the caller's.
 */
export class SigningKeyError extends DomainError {
  readonly status = 500;
  readonly code = "signing_key_unusable";
}
