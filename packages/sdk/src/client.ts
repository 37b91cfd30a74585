/*
 * CountersignClient: the public API, one method per server operation. Configuration lives in
 * client-options.ts and the shapes of calls in client-calls.ts, so this file holds only what each
 * method sends and how it reads the answer.
 */

import type { ApprovalTokenClaims, VerifyApprovalTokenOptions } from "./approval-token.ts";
import {
  auditQuery,
  type CallOptions,
  type CreateRequestResult,
  getCall,
  type ListAuditOptions,
  type ListRequestsFilter,
  postCall,
  requestsQuery,
  writeCall,
} from "./client-calls.ts";
import { type CountersignClientOptions, resolveClientOptions } from "./client-options.ts";
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
import { type Call, Transport } from "./transport.ts";
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
  RespondInput,
} from "./types.ts";
import { type WaitOptions, waitForApproval, waitForDecision } from "./wait.ts";

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
    const resolved = resolveClientOptions(options);
    this.baseUrl = resolved.transport.baseUrl;
    this.transport = new Transport(resolved.transport);
    this.jwksCache = new JwksCache(() => this.get("/.well-known/jwks.json", jwks, {}), resolved.jwksCacheMs);
  }

  /* ---- requests ---- */

  /** Creates a request for a human to decide. See `CreateRequestResult` for idempotent replays. */
  async createRequest(input: CreateRequestInput, options: CallOptions = {}): Promise<CreateRequestResult> {
    // The server deduplicates on external_request_id, so only then is a blind resend harmless.
    const call = postCall("/v1/requests", input, options, input.external_request_id !== undefined);
    const reply = await this.transport.send(call, approvalRequest);
    return { request: reply.value, replayed: reply.status === 200 };
  }

  async getRequest(id: string, options: CallOptions = {}): Promise<ApprovalRequest> {
    return this.get(`/v1/requests/${encodeURIComponent(id)}`, approvalRequest, options);
  }

  /** One page of requests, newest first. Agent keys see only the requests they created. */
  async listRequests(filter: ListRequestsFilter = {}, options: CallOptions = {}): Promise<RequestPage> {
    return this.get("/v1/requests", requestPage, options, requestsQuery(filter));
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
    return this.get("/v1/audit", auditPage, options, auditQuery(page));
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
    const call = writeCall("PATCH", `/v1/reviewers/${encodeURIComponent(id)}`, options, input);
    return (await this.transport.send(call, reviewer)).value;
  }

  /** Deletes a reviewer; past reviews keep who they were. Not retried (a resend would answer 404). */
  async deleteReviewer(id: string, options: CallOptions = {}): Promise<Reviewer> {
    const call = writeCall("DELETE", `/v1/reviewers/${encodeURIComponent(id)}`, options);
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
    const call = writeCall("DELETE", `/v1/keys/${encodeURIComponent(id)}`, options);
    return (await this.transport.send(call, apiKey)).value;
  }

  /* ---- plumbing ---- */

  private async get<T>(
    path: string,
    parse: (value: unknown, path: string) => T,
    options: CallOptions,
    query?: Call["query"],
  ): Promise<T> {
    return (await this.transport.send(getCall(path, options, query), parse)).value;
  }

  private async post<T>(
    path: string,
    body: unknown,
    parse: (value: unknown, path: string) => T,
    options: CallOptions,
    idempotent = false,
  ): Promise<T> {
    return (await this.transport.send(postCall(path, body, options, idempotent), parse)).value;
  }
}
