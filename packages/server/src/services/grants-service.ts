import {
  ConflictError,
  compileCondition,
  compileGlob,
  NotFoundError,
  type PolicyInput,
  type Principal,
  principalActor,
  ValidationError,
} from "@countersign/core";
import { sql } from "kysely";
import type { WriteContext } from "../storage/store.ts";
import type { ServiceDeps } from "./deps.ts";
import type { CallIdentity } from "./kill-switch-service.ts";

/** A standing approval: calls it covers are allowed without asking a human again. */
export interface Grant {
  id: string;
  /** The agent key id or name it covers; null for any agent. */
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
  constructor(deps: ServiceDeps) {
    this.deps = deps;
  }

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
    if (input.expires_at && Date.parse(input.expires_at) <= now) {
      throw new ValidationError("expires_at is in the past", [
        { path: "/expires_at", message: "must be in the future" },
      ]);
    }
    const at = new Date(now).toISOString();
    const expires =
      input.expires_at !== undefined
        ? new Date(input.expires_at).toISOString()
        : input.ttl_seconds !== undefined
          ? new Date(now + input.ttl_seconds * 1000).toISOString()
          : null;
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
    };
    await this.deps.store.write(async (ctx) => {
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
          },
        },
      ]);
    });
    return grant;
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
   * `max_uses` is never used more often than that, even across replicas.
   */
  async useMatching(
    ctx: WriteContext,
    who: CallIdentity,
    input: PolicyInput,
    now: number,
  ): Promise<Grant | null> {
    const rows = await ctx.db.selectFrom("grants").select("doc").where("active", "=", sql.lit(1)).execute();
    for (const row of rows) {
      const grant = JSON.parse(row.doc) as Grant;
      if (!applies(grant, who, input, now)) continue;
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

function applies(grant: Grant, who: CallIdentity, input: PolicyInput, now: number): boolean {
  if (grant.revoked_at) return false;
  if (grant.expires_at && Date.parse(grant.expires_at) <= now) return false;
  if (grant.max_uses !== null && grant.uses >= grant.max_uses) return false;
  if (grant.agent !== null && grant.agent !== who.agentKeyId && grant.agent !== who.agentName) return false;
  if (grant.run_id !== null && grant.run_id !== who.runId) return false;
  if (!compileGlob(grant.tool).test(input.tool)) return false;
  if (grant.conditions !== null && !compileCondition(grant.conditions, "$.conditions").test(input))
    return false;
  return true;
}
