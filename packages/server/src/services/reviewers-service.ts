import {
  buildReviewer,
  ConflictError,
  changedFields,
  NotFoundError,
  type Principal,
  patchReviewer,
  principalActor,
  type Reviewer,
  type ReviewerInput,
  type ReviewerPatch,
  reviewerAuditData,
  ValidationError,
} from "@countersign/core";
import type { Executor } from "../repos/executor.ts";
import { isUniqueViolation } from "../repos/executor.ts";
import { getKey } from "../repos/keys-repo.ts";
import {
  deleteReviewer,
  findReviewerByKeyId,
  getReviewer,
  insertReviewer,
  listReviewers,
  updateReviewer,
} from "../repos/reviewers-repo.ts";
import type { WriteContext } from "../storage/store.ts";
import type { ServiceDeps } from "./deps.ts";

/**
 * Reviewer records (admin only): the people requests are routed to. Every change is audited as
 * `reviewer.created|updated|deleted`, without contact details. A record may link one reviewer or
 * admin key (the key the person responds with) and name the agent keys the person owns.
 */
export class ReviewersService {
  private readonly deps: ServiceDeps;
  constructor(deps: ServiceDeps) {
    this.deps = deps;
  }

  async create(by: Principal, input: ReviewerInput): Promise<Reviewer> {
    return this.deps.store.write(async (ctx) => {
      const reviewer = buildReviewer(input, { id: this.deps.ids.next("rvw"), now: this.deps.clock.now() });
      await checkLinks(ctx.db, reviewer);
      await linked(() => insertReviewer(ctx.db, reviewer), reviewer);
      await audit(ctx, "reviewer.created", reviewer, by, reviewerAuditData(reviewer));
      return reviewer;
    });
  }

  async get(id: string): Promise<Reviewer> {
    const reviewer = await getReviewer(this.deps.store.db, id);
    if (!reviewer) throw new NotFoundError(`no reviewer ${id}`);
    return reviewer;
  }

  async list(filter: {
    role?: string;
    limit: number;
    cursor?: string;
  }): Promise<{ data: Reviewer[]; next_cursor: string | null }> {
    const rows = await listReviewers(this.deps.store.db, {
      limit: filter.limit + 1,
      ...(filter.role ? { role: filter.role } : {}),
      ...(filter.cursor ? { after_id: filter.cursor } : {}),
    });
    const scanned = rows.slice(0, filter.limit);
    const last = scanned[scanned.length - 1];
    // LIKE may ignore case on SQLite: keep exact role matches only; the cursor follows the scan.
    const role = filter.role;
    const data = role
      ? scanned.filter((r) => r.roles.includes(role) || r.fallback_for.includes(role))
      : scanned;
    return { data, next_cursor: rows.length > filter.limit && last ? last.id : null };
  }

  async update(by: Principal, id: string, patch: ReviewerPatch): Promise<Reviewer> {
    return this.deps.store.write(async (ctx) => {
      const existing = await getReviewer(ctx.db, id);
      if (!existing) throw new NotFoundError(`no reviewer ${id}`);
      const next = patchReviewer(existing, patch, this.deps.clock.now());
      await checkLinks(ctx.db, next);
      await linked(() => updateReviewer(ctx.db, next), next);
      await audit(ctx, "reviewer.updated", next, by, {
        ...reviewerAuditData(next),
        changed: changedFields(existing, next),
      });
      return next;
    });
  }

  async remove(by: Principal, id: string): Promise<Reviewer> {
    return this.deps.store.write(async (ctx) => {
      const existing = await getReviewer(ctx.db, id);
      if (!existing || !(await deleteReviewer(ctx.db, id))) throw new NotFoundError(`no reviewer ${id}`);
      await audit(ctx, "reviewer.deleted", existing, by, reviewerAuditData(existing), this.deps.clock.now());
      return existing;
    });
  }
}

async function audit(
  ctx: WriteContext,
  kind: string,
  reviewer: Reviewer,
  by: Principal,
  data: Record<string, unknown>,
  now?: number,
): Promise<void> {
  const at = now === undefined ? reviewer.updated_at : new Date(now).toISOString();
  await ctx.appendAudit([
    { at, kind, subject_id: reviewer.id, correlation_id: null, actor: principalActor(by), data },
  ]);
}

/** A key can belong to one person only; the unique index settles races between two writers. */
async function linked(write: () => Promise<unknown>, reviewer: Reviewer): Promise<void> {
  try {
    await write();
  } catch (error) {
    if (isUniqueViolation(error)) throw keyTaken(reviewer.key_id);
    throw error;
  }
}

function keyTaken(keyId: string | null): ConflictError {
  return new ConflictError("key_already_linked", `key ${keyId} is already linked to another reviewer`);
}

/**
 * A linked key must be an active reviewer or admin key not linked to anyone else; owned agent keys
 * must be agent keys. Unknown keys are bad input (400), not a missing resource.
 */
async function checkLinks(db: Executor, reviewer: Reviewer): Promise<void> {
  if (reviewer.key_id !== null) {
    const key = await getKey(db, reviewer.key_id);
    const problem = !key
      ? "no such key"
      : key.revoked_at !== null
        ? "that key is revoked"
        : key.role === "agent"
          ? "must be a reviewer or admin key (the key this person responds with)"
          : null;
    if (problem) throw new ValidationError(`key_id: ${problem}`, [{ path: "/key_id", message: problem }]);
    const holder = await findReviewerByKeyId(db, reviewer.key_id);
    if (holder && holder.id !== reviewer.id) throw keyTaken(reviewer.key_id);
  }
  for (const [i, keyId] of reviewer.owns_agent_keys.entries()) {
    const key = await getKey(db, keyId);
    if (key?.role !== "agent") {
      const message = key ? "must be an agent key" : "no such key";
      throw new ValidationError(`owns_agent_keys: ${keyId}: ${message}`, [
        { path: `/owns_agent_keys/${i}`, message },
      ]);
    }
  }
}
