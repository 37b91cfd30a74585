import type { ApprovalTokenClaims, VerifyApprovalTokenOptions } from "./approval-token.ts";
import { readEnv } from "./env.ts";
import type {
  GovernInput,
  GovernResult,
  Jwks,
  TokenCall,
  TokenConsumption,
  TokenVerification,
} from "./governance-types.ts";
import { type GuardContext, type GuardedFunction, type GuardOptions, guard } from "./guard.ts";
import { JwksCache } from "./jwks-cache.ts";
import {
  action,
  apiKey,
  approvalRequest,
  auditPage,
  auditVerification,
  caseView,
  createdKey,
  keyList,
  requestPage,
} from "./parse.ts";
import { governResult, jwks, tokenConsumption, tokenVerification } from "./parse-governance.ts";
import { type RetryOptions, resolveRetryPolicy } from "./retry.ts";
import {
  type ControlMap,
  type ControlMapInput,
  type CreateReviewerInput,
  controlMap,
  type ListReviewersFilter,
  type Reviewer,
  type ReviewerPage,
  reviewer,
  reviewerPage,
  type UpdateReviewerInput,
} from "./reviewers.ts";
import { type Call, type FetchLike, Transport } from "./transport.ts";
import type {
  Action,
  ApiKey,
  ApprovalRequest,
  AuditEntry,
  AuditPage,
  AuditVerification,
  Case,
  CreatedKey,
  CreateKeyInput,
  CreateRequestInput,
  LogActionInput,
  RequestPage,
  RequestStatus,
  RespondInput,
} from "./types.ts";
import { type WaitOptions, waitForApproval, waitForDecision } from "./wait.ts";

export const SDK_VERSION = "0.1.0";

export interface CountersignClientOptions {
  /** The server, e.g. `https://countersign.example.com`. Default: `COUNTERSIGN_URL`. */
  baseUrl?: string;
  /** An API key (`cs_<role>_…`). Default: `COUNTERSIGN_API_KEY`. */
  apiKey?: string;
  /** A `fetch` to use instead of the global one (tracing, proxies, tests). */
  fetch?: FetchLike;
  /** Per-attempt timeout of each HTTP call in ms. Default 30 000. Long-polls get it on top of their hold time. */
  timeoutMs?: number;
  /** Sent as `user-agent`. Default `countersign-sdk-js/<version>`, except in browsers, which set their own. */
  userAgent?: string;
  /** Retries of transient failures (see retry.ts); `false` turns them off. */
  retry?: RetryOptions | false;
  /** How long the server's public keys are reused for offline token checks, in ms. Default 300 000. */
  jwksCacheMs?: number;
}

/** Options every call accepts. */
export interface CallOptions {
  /** Aborting rejects the call at once with the signal's reason. */
  signal?: AbortSignal;
}

export interface CreateRequestResult {
  request: ApprovalRequest;
  /**
   * True when the server answered 200 instead of 201: a request with this `external_request_id` and
   * the same body already existed, and this is it. (Also true when a retry of this very call found
   * that its first attempt had gone through.)
   */
  replayed: boolean;
}

export interface ListRequestsFilter {
  status?: RequestStatus;
  correlationId?: string;
  /** Only requests routed to this reviewer role. */
  role?: string;
  /** Page size, 1–200; the server's default is 50. */
  limit?: number;
  /** `next_cursor` of the previous page. */
  cursor?: string;
}

export interface ListAuditOptions {
  /** Entries after this `seq`; 0 (the default) starts at the beginning. */
  afterSeq?: number;
  /** Page size, 1–1000; the server's default is 100. */
  limit?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** As long as the server lets the JWKS be cached; a retired key stays published far longer. */
const DEFAULT_JWKS_CACHE_MS = 300_000;

/**
 * A client for one Countersign server and API key. Stateless apart from its configuration, so one
 * instance can serve any number of concurrent calls and waits.
 *
 * Every method resolves with validated resources (timestamps as `Date`) or rejects with a
 * `CountersignError`; the wait methods can also reject with the outcome errors of outcome-errors.ts.
 * Reads and long-polls are retried on transient failures; writes are not, except `createRequest`
 * with an `external_request_id` and `govern` with a `call_id`, which the server deduplicates.
 */
export class CountersignClient {
  readonly baseUrl: string;
  private readonly transport: Transport;
  private readonly jwksCache: JwksCache;

  constructor(options: CountersignClientOptions = {}) {
    this.baseUrl = normaliseBaseUrl(options.baseUrl ?? readEnv("COUNTERSIGN_URL"));
    const key = options.apiKey ?? readEnv("COUNTERSIGN_API_KEY");
    if (!key) throw new TypeError("an API key is required: pass apiKey or set COUNTERSIGN_API_KEY");
    if (/\s/.test(key)) throw new TypeError("the API key must not contain whitespace");
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!(timeoutMs > 0 && Number.isFinite(timeoutMs))) {
      throw new RangeError("timeoutMs must be a positive number");
    }
    // Resolved at call time, not now, so a fetch polyfilled after construction is still picked up,
    // and called unbound from `globalThis` (browsers throw "Illegal invocation" otherwise).
    const fetchImpl: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.transport = new Transport({
      baseUrl: this.baseUrl,
      apiKey: key,
      fetch: fetchImpl,
      timeoutMs,
      userAgent: options.userAgent ?? (isBrowser() ? undefined : `countersign-sdk-js/${SDK_VERSION}`),
      retry: resolveRetryPolicy(options.retry),
    });
    this.jwksCache = new JwksCache(
      () => this.get("/.well-known/jwks.json", jwks, {}),
      options.jwksCacheMs ?? DEFAULT_JWKS_CACHE_MS,
    );
  }

  /* ---- requests ---- */

  /** Creates a request for a human to decide. See `CreateRequestResult` for idempotent replays. */
  async createRequest(input: CreateRequestInput, options: CallOptions = {}): Promise<CreateRequestResult> {
    const reply = await this.transport.send(
      {
        method: "POST",
        path: "/v1/requests",
        body: input,
        // The server deduplicates on external_request_id, so only then is a blind resend harmless.
        idempotent: input.external_request_id !== undefined,
        signal: options.signal,
      },
      approvalRequest,
    );
    return { request: reply.value, replayed: reply.status === 200 };
  }

  async getRequest(id: string, options: CallOptions = {}): Promise<ApprovalRequest> {
    return this.get(`/v1/requests/${encodeURIComponent(id)}`, approvalRequest, options);
  }

  /** One page of requests, newest first. Agent keys see only the requests they created. */
  async listRequests(filter: ListRequestsFilter = {}, options: CallOptions = {}): Promise<RequestPage> {
    return this.get("/v1/requests", requestPage, options, {
      status: filter.status,
      correlation_id: filter.correlationId,
      role: filter.role,
      limit: filter.limit,
      cursor: filter.cursor,
    });
  }

  /** Every request matching `filter`, newest first, fetching pages of `filter.limit` as needed. */
  async *iterateRequests(
    filter: Omit<ListRequestsFilter, "cursor"> = {},
    options: CallOptions = {},
  ): AsyncGenerator<ApprovalRequest, void, undefined> {
    let cursor: string | undefined;
    do {
      const page = await this.listRequests(cursor === undefined ? filter : { ...filter, cursor }, options);
      yield* page.data;
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined);
  }

  /**
   * Waits until the request is decided, cancelled or timed out, and returns it whatever the outcome.
   * Past `timeoutMs` throws `ApprovalTimeoutError` (reason `wait_timeout`) with the pending request.
   */
  async waitForDecision(id: string, options: WaitOptions = {}): Promise<ApprovalRequest> {
    return waitForDecision(this.transport, id, options);
  }

  /**
   * Waits for a go-ahead: resolves with the `approved` (or `answered`) request; throws
   * `ApprovalRejectedError`, `ApprovalTimeoutError` or `RequestCancelledError` otherwise.
   */
  async waitForApproval(id: string, options: WaitOptions = {}): Promise<ApprovalRequest> {
    return waitForApproval(this.transport, id, options);
  }

  /** A reviewer's (or admin's) response. Not retried: a resend would be refused as `already_responded`. */
  async respond(id: string, body: RespondInput, options: CallOptions = {}): Promise<ApprovalRequest> {
    return this.post(`/v1/requests/${encodeURIComponent(id)}/respond`, body, approvalRequest, options);
  }

  /** Cancels a pending request (its creating agent, or an admin). */
  async cancel(id: string, reason?: string, options: CallOptions = {}): Promise<ApprovalRequest> {
    const body = reason === undefined ? {} : { reason };
    return this.post(`/v1/requests/${encodeURIComponent(id)}/cancel`, body, approvalRequest, options);
  }

  /* ---- governance ---- */

  /**
   * Asks the policy whether the agent may make this tool call: `allow`, `deny`, or
   * `approval_required` (then the call is parked as request `request_id`). With a `call_id` the
   * call is idempotent, so it is retried on transient failures, and governing it again later
   * returns the same decision refreshed with the request's outcome: once approved, the
   * `approval_token` and the `approved_args` to run with. See also `guard`.
   */
  async govern(input: GovernInput, options: CallOptions = {}): Promise<GovernResult> {
    // The server deduplicates on (agent, run_id, call_id), so only then is a blind resend harmless.
    return this.post("/v1/govern", input, governResult, options, input.call_id !== undefined);
  }

  /**
   * Wraps `fn` so it runs only as `tool` is governed; see guard.ts. The returned function takes the
   * arguments and `{ runId, callId, … }`.
   */
  guard<Args, Result>(
    tool: string,
    fn: (args: Args, context: GuardContext) => Result | Promise<Result>,
    options: GuardOptions<Args> = {},
  ): GuardedFunction<Args, Result> {
    return guard(this, tool, fn, options);
  }

  /**
   * Has the server check that `token` authorises exactly this call, and whether it was used already.
   * Rejects with a `CountersignError` (403, `code` as in `ApprovalTokenErrorCode`; 400 `malformed`)
   * when it does not. Does not use the token up.
   */
  async verifyApprovalTokenOnline(call: TokenCall, options: CallOptions = {}): Promise<TokenVerification> {
    return this.post("/v1/tokens/verify", call, tokenVerification, options, true);
  }

  /**
   * Uses `token` for this call, once: only after this resolves may the tool run. A second use is
   * refused with 409 `token_already_used`, a mismatch with 403 (`args_mismatch`, `tool_mismatch`,
   * `expired`, …). Not retried: after a lost response a resend would be refused as already used.
   */
  async consumeApprovalToken(call: TokenCall, options: CallOptions = {}): Promise<TokenConsumption> {
    return this.post("/v1/tokens/consume", call, tokenConsumption, options);
  }

  /** The server's public token keys, cached for `jwksCacheMs`; `refresh: true` fetches them anew. */
  async getJwks(options: CallOptions & { refresh?: boolean } = {}): Promise<Jwks> {
    return this.jwksCache.get(options);
  }

  /**
   * Checks offline, with the server's cached public keys, that `token` authorises exactly `call`
   * now; resolves with its claims or throws `ApprovalTokenVerificationError`. Single use is not
   * checked: consume the token (`consumeApprovalToken`) when it must be used once.
   */
  async verifyApprovalToken(
    token: string,
    call: { tool: string; args: unknown },
    options: VerifyApprovalTokenOptions & CallOptions = {},
  ): Promise<ApprovalTokenClaims> {
    return this.jwksCache.verify(token, call, options);
  }

  /* ---- actions, cases, audit ---- */

  /** Records something the agent did itself (`log_action`), e.g. an autonomous action or a delivery. */
  async logAction(input: LogActionInput, options: CallOptions = {}): Promise<Action> {
    return this.post("/v1/actions", input, action, options);
  }

  /** Every request, action and audit entry sharing `correlationId` (agents see only their own). */
  async getCase(correlationId: string, options: CallOptions = {}): Promise<Case> {
    return this.get(`/v1/cases/${encodeURIComponent(correlationId)}`, caseView, options);
  }

  /** One page of the audit log (admin keys). */
  async listAudit(page: ListAuditOptions = {}, options: CallOptions = {}): Promise<AuditPage> {
    return this.get("/v1/audit", auditPage, options, { after_seq: page.afterSeq, limit: page.limit });
  }

  /** The audit log from `afterSeq` on, in chain order, fetching pages of `limit` as needed. */
  async *iterateAudit(
    from: ListAuditOptions = {},
    options: CallOptions = {},
  ): AsyncGenerator<AuditEntry, void, undefined> {
    let afterSeq = from.afterSeq;
    for (;;) {
      const page = await this.listAudit(
        { ...from, ...(afterSeq !== undefined ? { afterSeq } : {}) },
        options,
      );
      yield* page.data;
      if (page.next_after_seq === null) return;
      afterSeq = page.next_after_seq;
    }
  }

  /** Has the server recompute the whole audit chain (admin keys). */
  async verifyAudit(options: CallOptions = {}): Promise<AuditVerification> {
    return this.get("/v1/audit/verify", auditVerification, options);
  }

  /* ---- reviewers and routing ---- */

  /**
   * What routing would do right now for these approval requirements, creating nothing: who is on
   * shift, who would get fallback routing, and why routing would fail (agent and admin keys).
   */
  async controlMap(input: ControlMapInput, options: CallOptions = {}): Promise<ControlMap> {
    return this.post("/v1/requests/control-map", input, controlMap, options, true);
  }

  /** Creates a reviewer record (admin keys). Not retried. */
  async createReviewer(input: CreateReviewerInput, options: CallOptions = {}): Promise<Reviewer> {
    return this.post("/v1/reviewers", input, reviewer, options);
  }

  async getReviewer(id: string, options: CallOptions = {}): Promise<Reviewer> {
    return this.get(`/v1/reviewers/${encodeURIComponent(id)}`, reviewer, options);
  }

  /** One page of reviewers in id order, optionally those holding or covering `filter.role`. */
  async listReviewers(filter: ListReviewersFilter = {}, options: CallOptions = {}): Promise<ReviewerPage> {
    return this.get("/v1/reviewers", reviewerPage, options, {
      role: filter.role,
      limit: filter.limit,
      cursor: filter.cursor,
    });
  }

  /** Changes a reviewer: fields left out are kept, `null` clears a contact or the key. Not retried. */
  async updateReviewer(id: string, input: UpdateReviewerInput, options: CallOptions = {}): Promise<Reviewer> {
    const path = `/v1/reviewers/${encodeURIComponent(id)}`;
    const call: Call = { method: "PATCH", path, body: input, idempotent: false, signal: options.signal };
    return (await this.transport.send(call, reviewer)).value;
  }

  /** Deletes a reviewer; past reviews keep who they were. Not retried (a resend would answer 404). */
  async deleteReviewer(id: string, options: CallOptions = {}): Promise<Reviewer> {
    const path = `/v1/reviewers/${encodeURIComponent(id)}`;
    const call: Call = { method: "DELETE", path, idempotent: false, signal: options.signal };
    return (await this.transport.send(call, reviewer)).value;
  }

  /* ---- keys (admin) ---- */

  /** Creates an API key. Its `secret` is in this response only; store it now. Not retried. */
  async createKey(input: CreateKeyInput, options: CallOptions = {}): Promise<CreatedKey> {
    return this.post("/v1/keys", input, createdKey, options);
  }

  async listKeys(filter: { includeRevoked?: boolean } = {}, options: CallOptions = {}): Promise<ApiKey[]> {
    return this.get("/v1/keys", keyList, options, { include_revoked: filter.includeRevoked });
  }

  /** Revokes a key; not retried, since a resend after a lost response would be refused as `already_revoked`. */
  async revokeKey(id: string, options: CallOptions = {}): Promise<ApiKey> {
    const reply = await this.transport.send(
      {
        method: "DELETE",
        path: `/v1/keys/${encodeURIComponent(id)}`,
        idempotent: false,
        signal: options.signal,
      },
      apiKey,
    );
    return reply.value;
  }

  /* ---- plumbing ---- */

  private async get<T>(
    path: string,
    parse: (value: unknown, path: string) => T,
    options: CallOptions,
    query?: Call["query"],
  ): Promise<T> {
    const call: Call = { method: "GET", path, idempotent: true, signal: options.signal };
    if (query) call.query = query;
    return (await this.transport.send(call, parse)).value;
  }

  private async post<T>(
    path: string,
    body: unknown,
    parse: (value: unknown, path: string) => T,
    options: CallOptions,
    idempotent = false,
  ): Promise<T> {
    const call: Call = { method: "POST", path, body, idempotent, signal: options.signal };
    return (await this.transport.send(call, parse)).value;
  }
}

/** `https://host[:port][/prefix]` with no trailing slash, or a TypeError saying what is wrong. */
function normaliseBaseUrl(value: string | undefined): string {
  if (!value) throw new TypeError("a server URL is required: pass baseUrl or set COUNTERSIGN_URL");
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`baseUrl ${JSON.stringify(value)} is not an absolute URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(`baseUrl must be http or https, not ${url.protocol}`);
  }
  if (url.search || url.hash) throw new TypeError("baseUrl must not have a query or fragment");
  if (url.username || url.password) {
    throw new TypeError("baseUrl must not carry credentials; pass the API key as apiKey");
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

function isBrowser(): boolean {
  return typeof (globalThis as { document?: unknown }).document !== "undefined";
}
