import {
  type ApprovalRequest,
  assessResponder,
  ConflictError,
  cancelRequest,
  canSeeRequest,
  coveredRoles,
  createRequest,
  DEFAULT_ESCALATION,
  type EscalationDefaults,
  expireRequest,
  type GovernanceLink,
  isTerminal,
  type NewRequestInput,
  NotFoundError,
  type Principal,
  type RespondInput,
  requestBodyHash,
  respond,
  upgradeRequest,
  upgradeReview,
} from "@countersign/core";
import { type Executor, isUniqueViolation } from "../repos/executor.ts";
import {
  findRequestByExternalId,
  getRequest,
  insertRequest,
  insertReview,
  listExpiredPending,
  listRequests,
  listReviews,
  type RequestFilter,
  updatePendingRequest,
} from "../repos/requests-repo.ts";
import { listRequestsForRoles } from "../repos/routing-repo.ts";
import type { WriteContext } from "../storage/store.ts";
import type { ServiceDeps } from "./deps.ts";
import { EscalationService } from "./escalation-service.ts";
import { requestViewFor } from "./request-visibility.ts";
import { requesterFacts, reviewerOfKey, routingReviewers } from "./routing-inputs.ts";

/** Extension points for features layered on requests (governance edits, approval tokens). */
export interface RespondHooks {
  /** Runs before anything is written; throws to refuse the response (e.g. an edit the policy denies). */
  check?(request: ApprovalRequest, input: RespondInput, by: Principal): void;
  /** Runs in the deciding transaction once a request is decided; may return a decorated request. */
  decided?(ctx: WriteContext, request: ApprovalRequest): Promise<ApprovalRequest>;
}

/** Refuses a callback URL the server may not call (throws a ValidationError naming `/callback_url`). */
export type CallbackUrlCheck = (url: string) => void;

export interface CreateOutcome {
  request: ApprovalRequest;
  /** True when an identical earlier create was replayed (HTTP 200 instead of 201). */
  replayed: boolean;
  /**
   * `request` as JSON, when the create already serialised it to store it: the HTTP layer sends it
   * as it is instead of serialising the same resource again.
   */
  json?: string;
}

export interface RequestsOptions {
  /** Seconds before a pending request escalates, per priority (defaults: DEFAULT_ESCALATION). */
  escalation?: Partial<EscalationDefaults>;
}

export class RequestsService {
  private readonly deps: ServiceDeps;
  private readonly hooks: RespondHooks[] = [];
  private readonly escalation: EscalationDefaults;
  private readonly escalator: EscalationService;
  private callbackUrlCheck: CallbackUrlCheck | undefined;
  constructor(deps: ServiceDeps, options: RequestsOptions = {}) {
    this.deps = deps;
    this.escalation = { ...DEFAULT_ESCALATION, ...options.escalation };
    this.escalator = new EscalationService(deps);
  }

  addHooks(hooks: RespondHooks): void {
    this.hooks.push(hooks);
  }

  /** Callback URLs are checked against the outbound (SSRF) policy before a request is stored. */
  checkCallbackUrlsWith(check: CallbackUrlCheck): void {
    this.callbackUrlCheck = check;
  }

  async create(by: Principal, input: NewRequestInput): Promise<CreateOutcome> {
    try {
      return await this.deps.store.write((ctx) => this.createInTx(ctx, by, input));
    } catch (error) {
      // Another replica inserted the same external id between our lookup and insert: replay it.
      if (input.external_request_id && isUniqueViolation(error)) {
        const existing = await findRequestByExternalId(
          this.deps.store.db,
          by.key_id,
          input.external_request_id,
        );
        if (existing) return replayOrConflict(existing, input);
      }
      throw error;
    }
  }

  /** The create as a step of a larger unit of work (governed calls create requests this way). */
  async createInTx(
    ctx: WriteContext,
    by: Principal,
    input: NewRequestInput,
    governance?: GovernanceLink,
  ): Promise<CreateOutcome> {
    if (input.external_request_id) {
      const existing = await findRequestByExternalId(ctx.db, by.key_id, input.external_request_id);
      if (existing) return replayOrConflict(existing, input);
    }
    if (input.callback_url) this.callbackUrlCheck?.(input.callback_url);
    // Routing reads reviewers only for requests with required roles: open requests stay cheap.
    const roles = [...(input.required_role ? [input.required_role] : []), ...(input.required_roles ?? [])];
    const routed = roles.length > 0;
    const t = createRequest(input, {
      id: this.deps.ids.next("req"),
      now: this.deps.clock.now(),
      by,
      reviewers: routed ? await routingReviewers(ctx.db, roles) : [],
      requester: routed
        ? await requesterFacts(ctx.db, by.key_id)
        : { created_by_key_id: by.key_id, creator_issued_by: null },
      escalation: this.escalation,
    });
    if (governance) t.request.governance = governance;
    const json = await insertRequest(ctx.db, t.request);
    await ctx.appendAudit(t.audit, by.role === "agent" ? by.key_id : null);
    ctx.changed(t.request.id);
    return { request: t.request, replayed: false, json };
  }

  /**
   * A request as `by` may see it: agents only their own, reviewers those without required roles or
   * requiring a role they hold or cover, admins all. Others get 404, not 403. The approval token
   * is shown only to the creating key and admins.
   */
  async get(by: Principal, id: string): Promise<ApprovalRequest> {
    const db = this.deps.store.db;
    const stored = await getRequest(db, id);
    const request = stored ? upgradeRequest(stored) : undefined;
    if (!request || !(await canSee(db, by, request))) throw new NotFoundError(`no request ${id}`);
    return requestViewFor(by, request);
  }

  async list(
    by: Principal,
    filter: Omit<RequestFilter, "created_by_key_id">,
  ): Promise<{ data: ApprovalRequest[]; next_cursor: string | null }> {
    const db = this.deps.store.db;
    const page = { ...filter, limit: filter.limit + 1 };
    if (by.role === "reviewer") {
      const reviewer = await reviewerOfKey(db, by.key_id);
      const rows = await listRequestsForRoles(db, page, reviewer ? coveredRoles(reviewer) : []);
      // The cursor follows the rows scanned, so the re-check (exact role match) never skips any.
      const scanned = rows.slice(0, filter.limit).map(upgradeRequest);
      const last = scanned[scanned.length - 1];
      return {
        data: scanned.filter((r) => canSeeRequest(r, by, reviewer)).map((r) => requestViewFor(by, r)),
        next_cursor: rows.length > filter.limit && last ? last.id : null,
      };
    }
    const scoped: RequestFilter = by.role === "agent" ? { ...page, created_by_key_id: by.key_id } : page;
    const rows = await listRequests(db, scoped);
    const data = rows.slice(0, filter.limit).map(upgradeRequest);
    const last = data[data.length - 1];
    return {
      data: data.map((r) => requestViewFor(by, r)),
      next_cursor: rows.length > filter.limit && last ? last.id : null,
    };
  }

  async respond(by: Principal, id: string, input: RespondInput, channel = "api"): Promise<ApprovalRequest> {
    return this.deps.store.write(async (ctx) => {
      const stored = await getRequest(ctx.db, id, { forUpdate: ctx.dialect === "postgres" });
      if (!stored) throw new NotFoundError(`no request ${id}`);
      const request = upgradeRequest(stored);
      // Who is answering: the person behind the key, the roles they decide for, and whether they
      // asked for this themselves (separation of duties).
      const reviewer = by.role === "agent" ? null : await reviewerOfKey(ctx.db, by.key_id);
      const responder = assessResponder(
        request,
        by,
        reviewer,
        await requesterFacts(ctx.db, request.created_by.key_id),
      );
      if (!responder.can_see) throw new NotFoundError(`no request ${id}`);
      for (const hook of this.hooks) hook.check?.(request, input, by);
      const prior = (await listReviews(ctx.db, id)).map(upgradeReview);
      const t = respond(request, prior, input, {
        reviewId: this.deps.ids.next("rev"),
        now: this.deps.clock.now(),
        by,
        channel,
        responder,
      });
      try {
        await insertReview(ctx.db, t.review);
      } catch (error) {
        if (isUniqueViolation(error)) {
          throw new ConflictError("already_responded", "this reviewer has already responded to the request");
        }
        throw error;
      }
      let decided = t.request;
      if (isTerminal(decided.status))
        for (const hook of this.hooks) if (hook.decided) decided = await hook.decided(ctx, decided);
      await this.save(ctx, decided);
      await ctx.appendAudit(t.audit, ownerOf(decided));
      return requestViewFor(by, decided);
    });
  }

  async cancel(by: Principal, id: string, reason: string | undefined): Promise<ApprovalRequest> {
    return this.deps.store.write(async (ctx) => {
      const stored = await getRequest(ctx.db, id, { forUpdate: ctx.dialect === "postgres" });
      const request = stored ? upgradeRequest(stored) : undefined;
      if (!request || !(await canSee(ctx.db, by, request))) throw new NotFoundError(`no request ${id}`);
      const t = cancelRequest(request, { now: this.deps.clock.now(), by, ...(reason ? { reason } : {}) });
      await this.save(ctx, t.request);
      await ctx.appendAudit(t.audit, ownerOf(t.request));
      return requestViewFor(by, t.request);
    });
  }

  /**
   * Long-poll: resolves as soon as the request is terminal, or with the pending request when the
   * timeout passes. Woken by the change bus (in-process, or NOTIFY from another replica); the row is
   * always re-read after a wake-up, so duplicate or coalesced signals are harmless.
   */
  async wait(by: Principal, id: string, timeoutMs: number, signal?: AbortSignal): Promise<ApprovalRequest> {
    let signalled = false;
    let wake: (() => void) | undefined;
    const unsubscribe = this.deps.store.changes.subscribe(id, () => {
      signalled = true;
      wake?.();
    });
    const deadline = performance.now() + timeoutMs;
    try {
      for (;;) {
        signalled = false;
        const request = await this.get(by, id);
        const remaining = deadline - performance.now();
        if (isTerminal(request.status) || remaining <= 0 || signal?.aborted) return request;
        if (signalled) continue;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, remaining);
          const onAbort = () => done();
          signal?.addEventListener("abort", onAbort, { once: true });
          function done() {
            clearTimeout(timer);
            signal?.removeEventListener("abort", onAbort);
            wake = undefined;
            resolve();
          }
          wake = done;
        });
      }
    } finally {
      unsubscribe();
    }
  }

  /** Times out every pending request whose TTL has passed. Returns how many were expired. */
  async expireDue(limit = 200): Promise<number> {
    return this.deps.store.write(async (ctx) => {
      const now = this.deps.clock.now();
      const due = await listExpiredPending(ctx.db, new Date(now).toISOString(), limit, ctx.dialect);
      let expired = 0;
      for (const request of due) {
        const t = expireRequest(upgradeRequest(request), now);
        if (!t) continue;
        await this.save(ctx, t.request);
        await ctx.appendAudit(t.audit, ownerOf(t.request));
        expired++;
      }
      return expired;
    });
  }

  /**
   * Escalates every pending request whose escalation time has passed (see EscalationService).
   * Returns how many due requests were looked at; a full batch means there may be more.
   */
  escalateDue(limit = 200): Promise<number> {
    return this.escalator.escalateDue(limit);
  }

  private async save(ctx: WriteContext, request: ApprovalRequest): Promise<void> {
    if (!(await updatePendingRequest(ctx.db, request))) {
      throw new ConflictError("already_decided", `request ${request.id} was decided concurrently`);
    }
    ctx.changed(request.id);
  }
}

/** Visibility, looking up the reviewer record only when it can matter (a reviewer, a role-bound request). */
async function canSee(db: Executor, by: Principal, request: ApprovalRequest): Promise<boolean> {
  if (by.role !== "reviewer" || request.required_roles.length === 0) return canSeeRequest(request, by, null);
  return canSeeRequest(request, by, await reviewerOfKey(db, by.key_id));
}

function ownerOf(request: ApprovalRequest): string | null {
  return request.created_by.role === "agent" ? request.created_by.key_id : null;
}

function replayOrConflict(existing: ApprovalRequest, input: NewRequestInput): CreateOutcome {
  if (existing.body_hash === requestBodyHash(input))
    return { request: upgradeRequest(existing), replayed: true };
  throw new ConflictError(
    "idempotency_mismatch",
    `external_request_id ${JSON.stringify(input.external_request_id)} was already used with a different body`,
  );
}
