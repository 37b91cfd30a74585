import {
  type ApprovalRequirement,
  ConflictError,
  compileCondition,
  compileGlob,
  conflictsOf,
  DomainError,
  ForbiddenError,
  NotFoundError,
  outcomesInScope,
  type PolicyInput,
  type Principal,
  principalActor,
  reviewerGrantProblem,
  SeparationOfDutiesError,
  ValidationError,
} from "@countersign/core";
import { sql } from "kysely";
import type { Executor } from "../repos/executor.ts";
import { getKey, type KeyRecord } from "../repos/keys-repo.ts";
import type { WriteContext } from "../storage/store.ts";
import type { ServiceDeps } from "./deps.ts";
import type { CallIdentity } from "./kill-switch-service.ts";
import type { PolicyService } from "./policy-service.ts";
import { requesterFacts, reviewerOfKey } from "./routing-inputs.ts";

/** A grant's expiry is at most this far ahead. */
export const MAX_GRANT_TTL_SECONDS = 30 * 24 * 3600;

/** Refused because the grant would stand in for approvals its giver could not give alone. */
export class GrantNotAuthorizedError extends DomainError {
  readonly status = 403;
  readonly code = "grant_not_authorized";
}

/** A standing approval: calls it covers are allowed without asking a human again. */
export interface Grant {
  id: string;
  /** The id of the agent key it covers; null for any agent (an admin's grant for a run). */
  agent: string | null;
  /** The run it covers; null for any run of the agent. */
  run_id: string | null;
  /** Tool glob, as in policies (`*` within a dot segment, `**` across). */
  tool: string;
  /** Optional argument condition, in the policy condition language. */
  conditions: unknown;
  reason: string | null;
  expires_at: string | null;
  max_uses: number | null;
  uses: number;
  created_by: Principal;
  created_at: string;
  revoked_at: string | null;
  revoked_by: Principal | null;
  /**
   * For a reviewer's grant, the roles they held when giving it: the grant stands in only for
   * approvals that need one approval and no other roles. Null for an admin's grant.
   */
  grantor_roles: string[] | null;
}

/** What the policy decided for a governed call, as far as a grant may stand in for it. */
export interface GrantableVerdict {
  /** The policy's default outcome denied the call (only an admin's grant may allow it). */
  default_deny: boolean;
  /** The approval the call would otherwise need (null for a default deny). */
  approval: ApprovalRequirement | null;
}

export interface GrantInput {
  agent?: string;
  run_id?: string;
  tool: string;
  conditions?: unknown;
  reason?: string;
  expires_at?: string;
  ttl_seconds?: number;
  max_uses?: number;
}

export class GrantsService {
  private readonly deps: ServiceDeps;
  private readonly policy: PolicyService;
  constructor(deps: ServiceDeps, policy: PolicyService) {
    this.deps = deps;
    this.policy = policy;
  }

  /**
   * Gives a standing grant. Every grant is bounded (an expiry at most 30 days ahead, or a use
   * limit). An admin may grant anything; a reviewer only what they could approve alone, for an
   * agent key they do not own (see `authorise`).
   */
  async create(by: Principal, input: GrantInput): Promise<Grant> {
    if (!input.agent && !input.run_id) {
      throw new ValidationError("a grant must name an agent, a run, or both", [
        { path: "/agent", message: "give agent and/or run_id" },
      ]);
    }
    try {
      compileGlob(input.tool);
    } catch (error) {
      throw new ValidationError(`invalid tool pattern: ${(error as Error).message}`, [
        { path: "/tool", message: (error as Error).message },
      ]);
    }
    // Conditions use the policy language; a broken one is a PolicyError (a 400 with the path).
    if (input.conditions !== undefined) compileCondition(input.conditions, "$.conditions");
    const now = this.deps.clock.now();
    const expires = expiryOf(input, now);
    const at = new Date(now).toISOString();
    const grant: Grant = {
      id: this.deps.ids.next("grt"),
      agent: input.agent ?? null,
      run_id: input.run_id ?? null,
      tool: input.tool,
      conditions: input.conditions ?? null,
      reason: input.reason ?? null,
      expires_at: expires,
      max_uses: input.max_uses ?? null,
      uses: 0,
      created_by: by,
      created_at: at,
      revoked_at: null,
      revoked_by: null,
      grantor_roles: null,
    };
    await this.deps.store.write(async (ctx) => {
      const agentKey = input.agent !== undefined ? await agentKeyOf(ctx.db, input.agent) : null;
      if (by.role !== "admin") grant.grantor_roles = await this.authorise(ctx.db, by, input.tool, agentKey);
      await ctx.db
        .insertInto("grants")
        .values({ id: grant.id, active: 1, uses: 0, created_at: at, doc: JSON.stringify(grant) })
        .execute();
      await ctx.appendAudit([
        {
          at,
          kind: "grant.created",
          subject_id: grant.id,
          correlation_id: grant.run_id,
          actor: principalActor(by),
          data: {
            agent: grant.agent,
            run_id: grant.run_id,
            tool: grant.tool,
            conditions: grant.conditions as Record<string, unknown> | null,
            expires_at: grant.expires_at,
            max_uses: grant.max_uses,
            reason: grant.reason,
            grantor_roles: grant.grantor_roles,
          },
        },
      ]);
    });
    return grant;
  }

  /**
   * A reviewer may grant only what they could approve alone, and never for an agent key they own
   * (separation of duties, as in routing). Every outcome the policy in force could reach for a call
   * the grant covers (see `outcomesInScope`) must be an allow, an explicit deny (grants never
   * override those), or an approval needing one approval and only roles the reviewer's record
   * holds; a default deny is for admins only. Returns the roles the grant is given under.
   */
  private async authorise(
    db: Executor,
    by: Principal,
    tool: string,
    agentKey: KeyRecord | null,
  ): Promise<string[]> {
    if (by.role !== "reviewer") throw new ForbiddenError("only admins and reviewers may give grants");
    if (agentKey === null) {
      throw new GrantNotAuthorizedError(
        "a reviewer's grant must name the agent key it covers (agent); only an admin may grant for a run of any agent",
      );
    }
    const reviewer = await reviewerOfKey(db, by.key_id);
    if (conflictsOf(reviewer, by.key_id, await requesterFacts(db, agentKey.id)).length > 0) {
      throw new SeparationOfDutiesError(
        `you own the agent key ${agentKey.id}, so you may not grant it standing approvals`,
      );
    }
    const roles = [...(reviewer?.roles ?? [])];
    const outcomes = outcomesInScope(this.policy.current().document, { tool, agent_name: agentKey.name });
    const problem = reviewerGrantProblem(outcomes, roles);
    if (problem !== null) throw new GrantNotAuthorizedError(problem);
    return roles;
  }

  async list(includeInactive: boolean): Promise<Grant[]> {
    let query = this.deps.store.db.selectFrom("grants").select("doc").orderBy("id", "desc").limit(500);
    if (!includeInactive) query = query.where("active", "=", 1);
    return (await query.execute()).map((r) => JSON.parse(r.doc) as Grant);
  }

  async revoke(by: Principal, id: string): Promise<Grant> {
    const at = new Date(this.deps.clock.now()).toISOString();
    return this.deps.store.write(async (ctx) => {
      const row = await ctx.db.selectFrom("grants").select("doc").where("id", "=", id).executeTakeFirst();
      if (!row) throw new NotFoundError(`no grant ${id}`);
      const grant = JSON.parse(row.doc) as Grant;
      if (grant.revoked_at) throw new ConflictError("already_revoked", `grant ${id} is already revoked`);
      const revoked: Grant = { ...grant, revoked_at: at, revoked_by: by };
      await ctx.db
        .updateTable("grants")
        .set({ active: 0, doc: JSON.stringify(revoked) })
        .where("id", "=", id)
        .execute();
      await ctx.appendAudit([
        {
          at,
          kind: "grant.revoked",
          subject_id: id,
          correlation_id: grant.run_id,
          actor: principalActor(by),
          data: { uses: grant.uses },
        },
      ]);
      return revoked;
    });
  }

  /**
   * Finds a live grant covering the call and counts one use of it, inside the govern transaction.
   * Returns null when none applies. The use count is bumped with a compare-and-set, so a grant with
   * `max_uses` is never used more often than that, even across replicas. A reviewer's grant only
   * stands in for what its giver could approve alone under the policy in force now (see
   * `standsInFor`), so a stricter policy put in force later is not bypassed.
   */
  async useMatching(
    ctx: WriteContext,
    who: CallIdentity,
    input: PolicyInput,
    now: number,
    verdict: GrantableVerdict,
  ): Promise<Grant | null> {
    const rows = await ctx.db.selectFrom("grants").select("doc").where("active", "=", sql.lit(1)).execute();
    for (const row of rows) {
      const grant = JSON.parse(row.doc) as Grant;
      if (!applies(grant, who, input, now) || !standsInFor(grant, verdict)) continue;
      const used: Grant = { ...grant, uses: grant.uses + 1 };
      const exhausted = used.max_uses !== null && used.uses >= used.max_uses;
      const result = await ctx.db
        .updateTable("grants")
        .set({ uses: used.uses, active: exhausted ? 0 : 1, doc: JSON.stringify(used) })
        .where("id", "=", grant.id)
        .where("uses", "=", grant.uses)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) continue;
      return used;
    }
    return null;
  }
}

/**
 * A grant's tool pattern and condition never change after it is created, so they are compiled once
 * per grant rather than on every governed call that looks for a standing approval.
 */
const matchers = new Map<string, (input: PolicyInput) => boolean>();
const MAX_MATCHERS = 10_000;

function matcherOf(grant: Grant): (input: PolicyInput) => boolean {
  let matcher = matchers.get(grant.id);
  if (!matcher) {
    const tool = compileGlob(grant.tool);
    const condition = grant.conditions === null ? null : compileCondition(grant.conditions, "$.conditions");
    matcher = (input) => tool.test(input.tool) && (condition === null || condition.test(input));
    if (matchers.size >= MAX_MATCHERS) matchers.clear();
    matchers.set(grant.id, matcher);
  }
  return matcher;
}

function applies(grant: Grant, who: CallIdentity, input: PolicyInput, now: number): boolean {
  if (grant.revoked_at) return false;
  if (grant.expires_at && Date.parse(grant.expires_at) <= now) return false;
  if (grant.max_uses !== null && grant.uses >= grant.max_uses) return false;
  // By key id only: key names are not unique.
  if (grant.agent !== null && grant.agent !== who.agentKeyId) return false;
  if (grant.run_id !== null && grant.run_id !== who.runId) return false;
  return matcherOf(grant)(input);
}

/** Whether the grant's giver could have approved this call alone (admins: anything). */
function standsInFor(grant: Grant, verdict: GrantableVerdict): boolean {
  if (grant.created_by.role === "admin") return true;
  if (verdict.default_deny || verdict.approval === null) return false;
  // Grants stored before roles were recorded carry none: they stand in only for open approvals.
  const held = grant.grantor_roles ?? [];
  return (
    verdict.approval.required_approvals <= 1 &&
    verdict.approval.required_roles.every((role) => held.includes(role))
  );
}

/** The grant's expiry; refuses a grant that is not bounded by an expiry or a use limit. */
function expiryOf(input: GrantInput, now: number): string | null {
  if (input.expires_at !== undefined && input.ttl_seconds !== undefined) {
    throw new ValidationError("give expires_at or ttl_seconds, not both", [
      { path: "/ttl_seconds", message: "not allowed together with expires_at" },
    ]);
  }
  if (input.expires_at === undefined && input.ttl_seconds === undefined && input.max_uses === undefined) {
    const message = "give expires_at or ttl_seconds (at most 30 days), or max_uses";
    throw new ValidationError(`a grant must be bounded: ${message}`, [
      { path: "/expires_at", message },
      { path: "/ttl_seconds", message },
      { path: "/max_uses", message },
    ]);
  }
  const path = input.expires_at !== undefined ? "/expires_at" : "/ttl_seconds";
  const expires =
    input.expires_at !== undefined
      ? Date.parse(input.expires_at)
      : input.ttl_seconds !== undefined
        ? now + input.ttl_seconds * 1000
        : null;
  if (expires === null) return null;
  if (Number.isNaN(expires)) {
    throw new ValidationError("expires_at is not a date-time", [{ path, message: "must be a date-time" }]);
  }
  if (expires <= now) {
    throw new ValidationError("expires_at is in the past", [{ path, message: "must be in the future" }]);
  }
  if (expires > now + MAX_GRANT_TTL_SECONDS * 1000) {
    throw new ValidationError("a grant expires at most 30 days ahead", [
      { path, message: `must be at most ${MAX_GRANT_TTL_SECONDS} seconds (30 days) ahead` },
    ]);
  }
  return new Date(expires).toISOString();
}

/** The agent key a grant names, by id: it must exist, be an agent key, and not be revoked. */
async function agentKeyOf(db: Executor, id: string): Promise<KeyRecord> {
  const key = await getKey(db, id);
  if (!key) {
    throw new NotFoundError(`no key ${id}: a grant names its agent by key id`, [
      { path: "/agent", message: "must be the id of an existing agent key" },
    ]);
  }
  if (key.role !== "agent") {
    throw new ValidationError(`key ${id} is not an agent key`, [
      { path: "/agent", message: "must be the id of an agent key" },
    ]);
  }
  if (key.revoked_at !== null) {
    throw new ValidationError(`key ${id} is revoked`, [{ path: "/agent", message: "the key is revoked" }]);
  }
  return key;
}
