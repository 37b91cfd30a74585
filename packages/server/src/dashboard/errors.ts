import { DomainError } from "@countersign/core";

/** A state-changing call made with a session cookie but without the session's CSRF token. */
export class CsrfError extends DomainError {
  readonly status = 403;
  readonly code = "csrf_token_invalid";
}

/** Too many attempts (sign-in, invite links); `retryAfterSeconds` goes into `Retry-After`. */
export class RateLimitedError extends DomainError {
  readonly status = 429;
  readonly code = "rate_limited";
  override readonly retryable = true;
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number) {
    super(message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** An invite link that cannot be used (unknown, expired, used or revoked). */
export class InviteInvalidError extends DomainError {
  readonly status = 410;
  readonly code = "invite_invalid";
}
