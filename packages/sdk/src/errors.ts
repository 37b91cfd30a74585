/*
 * Every failure to get a usable answer from the server is a `CountersignError`: an HTTP error
 * (built from the server's application/problem+json), a network failure (`status: 0`), or a
 * response this SDK cannot make sense of (`invalid_response`). `retryable` says whether sending the
 * same call again may succeed, so callers need no status-code tables of their own.
 */

/** One offending field of a refused body or query, e.g. `{path: "/ttl_seconds", message: "must be >= 1"}`. */
export interface FieldError {
  path: string;
  message: string;
}

/** RFC 9457 problem details as the Countersign server sends them. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  retryable: boolean;
  errors?: FieldError[];
  request_id: string;
}

export interface CountersignErrorInit {
  status: number;
  code: string;
  detail: string;
  retryable: boolean;
  errors?: FieldError[];
  requestId?: string;
  problem?: Problem;
  cause?: unknown;
}

export class CountersignError extends Error {
  /** HTTP status; 0 when no response arrived (network failure, per-attempt timeout). */
  readonly status: number;
  /** Machine-readable reason, e.g. `invalid_request`, `not_found`, `idempotency_mismatch`, `network_error`. */
  readonly code: string;
  readonly retryable: boolean;
  readonly detail: string;
  /** Field-level problems of a 400, empty otherwise. */
  readonly errors: FieldError[];
  /** The server's id for the call (problem `request_id` or `x-request-id`), for its logs. */
  readonly requestId: string | undefined;
  /** The problem document as received, when there was one. */
  readonly problem: Problem | undefined;

  constructor(init: CountersignErrorInit) {
    super(init.status > 0 ? `${init.status} ${init.code}: ${init.detail}` : `${init.code}: ${init.detail}`);
    this.name = "CountersignError";
    this.status = init.status;
    this.code = init.code;
    this.retryable = init.retryable;
    this.detail = init.detail;
    this.errors = init.errors ?? [];
    this.requestId = init.requestId;
    this.problem = init.problem;
    if (init.cause !== undefined) this.cause = init.cause;
  }
}

/** 429 and 5xx are transient by HTTP's own meaning; the server's `retryable` flag wins when present. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/**
 * The error for a non-2xx response. Tolerant on purpose: a proxy in front of the server may answer
 * with HTML or plain text, and that must still become a typed error rather than a parse failure.
 */
export function errorFromResponse(status: number, headers: Headers, bodyText: string): CountersignError {
  const headerRequestId = headers.get("x-request-id") ?? undefined;
  const problem = parseProblem(bodyText, status);
  if (problem) {
    return new CountersignError({
      status,
      code: problem.code,
      detail: problem.detail,
      retryable: problem.retryable,
      ...(problem.errors ? { errors: problem.errors } : {}),
      requestId: problem.request_id || headerRequestId,
      problem,
    });
  }
  const snippet = bodyText.trim().slice(0, 200);
  return new CountersignError({
    status,
    code: "http_error",
    detail: `HTTP ${status}${snippet ? `: ${snippet}` : ""}`,
    retryable: isRetryableStatus(status),
    ...(headerRequestId ? { requestId: headerRequestId } : {}),
  });
}

/** A problem document if `text` is one (at least a `code` or `detail`), else undefined. */
function parseProblem(text: string, status: number): Problem | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const body = value as Record<string, unknown>;
  const code = typeof body.code === "string" && body.code !== "" ? body.code : undefined;
  const detail = typeof body.detail === "string" ? body.detail : undefined;
  if (code === undefined && detail === undefined) return undefined;
  const problem: Problem = {
    type: typeof body.type === "string" ? body.type : "about:blank",
    title: typeof body.title === "string" ? body.title : "",
    // The status line is what happened; a body claiming otherwise is not believed.
    status,
    detail: detail ?? (typeof body.title === "string" ? body.title : `HTTP ${status}`),
    code: code ?? "http_error",
    retryable: typeof body.retryable === "boolean" ? body.retryable : isRetryableStatus(status),
    request_id: typeof body.request_id === "string" ? body.request_id : "",
  };
  const errors = parseFieldErrors(body.errors);
  if (errors) problem.errors = errors;
  return problem;
}

function parseFieldErrors(value: unknown): FieldError[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: FieldError[] = [];
  for (const item of value) {
    if (typeof item !== "object" || item === null) continue;
    const { path, message } = item as Record<string, unknown>;
    if (typeof path === "string" && typeof message === "string") out.push({ path, message });
  }
  return out;
}

/** The server answered, but not with what the API promises; retrying the same call will not help. */
export function invalidResponse(detail: string, status: number, requestId?: string): CountersignError {
  return new CountersignError({
    status,
    code: "invalid_response",
    detail,
    retryable: false,
    ...(requestId ? { requestId } : {}),
  });
}
