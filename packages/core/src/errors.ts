/**
 * Typed domain errors. Each says what went wrong (`code`), which HTTP status the transport should
 * use, and whether the caller may retry the same call unchanged. A denial is never a plain string.
 */
export interface FieldProblem {
  /** JSON pointer-ish path of the offending field, e.g. `/tool/args` or `$.options[0]`. */
  path: string;
  message: string;
}

export abstract class DomainError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
  readonly retryable: boolean = false;
  readonly errors: FieldProblem[] | undefined;

  constructor(message: string, errors?: FieldProblem[]) {
    super(message);
    this.name = new.target.name;
    this.errors = errors;
  }
}

export class ValidationError extends DomainError {
  readonly status = 400;
  readonly code: string = "invalid_request";
}

export class UnauthorizedError extends DomainError {
  readonly status = 401;
  readonly code = "unauthorized";
}

export class ForbiddenError extends DomainError {
  readonly status = 403;
  readonly code = "forbidden";
}

export class NotFoundError extends DomainError {
  readonly status = 404;
  readonly code = "not_found";
}

export class ConflictError extends DomainError {
  readonly status = 409;
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/** A transient failure (database busy, connection lost): the same call may succeed if retried. */
export class UnavailableError extends DomainError {
  readonly status = 503;
  readonly code = "unavailable";
  override readonly retryable = true;
}
