import {
  type ApprovalRequest,
  ConflictError,
  cancelRequest,
  createRequest,
  expireRequest,
  type GovernanceLink,
  isTerminal,
  type NewRequestInput,
  NotFoundError,
  type Principal,
  type RespondInput,
  requestBodyHash,
  respond,
} from "@countersign/core";
import { isUniqueViolation } from "../repos/executor.ts";
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
import type { WriteContext } from "../storage/store.ts";
import type { ServiceDeps } from "./deps.ts";

/** Extension points for features layered on requests (governance edits, approval tokens). */
export interface RespondHooks {
  /** Runs before anything is written; throws to refuse the response (e.g. an edit the policy denies). */
  check?(request: ApprovalRequest, input: RespondInput, by: Principal): void;
  /** Runs in the deciding transaction once a request is decided; may return a decorated request. */
  decided?(ctx: WriteContext, request: ApprovalRequest): Promise<ApprovalRequest>;
}

export interface CreateOutcome {
  request: ApprovalRequest;
  /** True when an identical earlier create was replayed (HTTP 200 instead of 201). */
  replayed: boolean;
}

export class RequestsService {
  private readonly deps: ServiceDeps;
  private readonly hooks: RespondHooks[] = [];
  constructor(deps: ServiceDeps) {
    this.deps = deps;
  }

  addHooks(hooks: RespondHooks): void {
    this.hooks.push(hooks);
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
    const t = createRequest(input, { id: this.deps.ids.next("req"), now: this.deps.clock.now(), by });
    if (governance) t.request.governance = governance;
    await insertRequest(ctx.db, t.request);
    await ctx.appendAudit(t.audit, by.role === "agent" ? by.key_id : null);
    ctx.changed(t.request.id);
    return { request: t.request, replayed: false };
  }

  /** A request as `by` may see it: agents only see their own; others get 404, not 403. */
  async get(by: Principal, id: string): Promise<ApprovalRequest> {
    const request = await getRequest(this.deps.store.db, id);
    if (!request || !canSee(by, request)) throw new NotFoundError(`no request ${id}`);
    return request;
  }

  async list(
    by: Principal,
    filter: Omit<RequestFilter, "created_by_key_id">,
  ): Promise<{ data: ApprovalRequest[]; next_cursor: string | null }> {
    const scoped: RequestFilter = by.role === "agent" ? { ...filter, created_by_key_id: by.key_id } : filter;
    const rows = await listRequests(this.deps.store.db, { ...scoped, limit: filter.limit + 1 });
    const data = rows.slice(0, filter.limit);
    const last = data[data.length - 1];
    return { data, next_cursor: rows.length > filter.limit && last ? last.id : null };
  }

  async respond(by: Principal, id: string, input: RespondInput, channel = "api"): Promise<ApprovalRequest> {
    return this.deps.store.write(async (ctx) => {
      const request = await getRequest(ctx.db, id, { forUpdate: ctx.dialect === "postgres" });
      if (!request || !canSee(by, request)) throw new NotFoundError(`no request ${id}`);
      for (const hook of this.hooks) hook.check?.(request, input, by);
      const prior = await listReviews(ctx.db, id);
      const t = respond(request, prior, input, {
        reviewId: this.deps.ids.next("rev"),
        now: this.deps.clock.now(),
        by,
        channel,
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
      return decided;
    });
  }

  async cancel(by: Principal, id: string, reason: string | undefined): Promise<ApprovalRequest> {
    return this.deps.store.write(async (ctx) => {
      const request = await getRequest(ctx.db, id, { forUpdate: ctx.dialect === "postgres" });
      if (!request || !canSee(by, request)) throw new NotFoundError(`no request ${id}`);
      const t = cancelRequest(request, { now: this.deps.clock.now(), by, ...(reason ? { reason } : {}) });
      await this.save(ctx, t.request);
      await ctx.appendAudit(t.audit, ownerOf(t.request));
      return t.request;
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
        const t = expireRequest(request, now);
        if (!t) continue;
        await this.save(ctx, t.request);
        await ctx.appendAudit(t.audit, ownerOf(t.request));
        expired++;
      }
      return expired;
    });
  }

  private async save(ctx: WriteContext, request: ApprovalRequest): Promise<void> {
    if (!(await updatePendingRequest(ctx.db, request))) {
      throw new ConflictError("already_decided", `request ${request.id} was decided concurrently`);
    }
    ctx.changed(request.id);
  }
}

function canSee(by: Principal, request: ApprovalRequest): boolean {
  return by.role !== "agent" || request.created_by.key_id === by.key_id;
}

function ownerOf(request: ApprovalRequest): string | null {
  return request.created_by.role === "agent" ? request.created_by.key_id : null;
}

function replayOrConflict(existing: ApprovalRequest, input: NewRequestInput): CreateOutcome {
  if (existing.body_hash === requestBodyHash(input)) return { request: existing, replayed: true };
  throw new ConflictError(
    "idempotency_mismatch",
    `external_request_id ${JSON.stringify(input.external_request_id)} was already used with a different body`,
  );
}
