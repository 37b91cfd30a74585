import {
  type ApprovalRequest,
  cancelRequest,
  DomainError,
  NotFoundError,
  type Principal,
  principalActor,
  ValidationError,
} from "@countersign/core";
import { sql } from "kysely";
import type { Executor } from "../repos/executor.ts";
import { QueryTemplate } from "../repos/query-template.ts";
import { updatePendingRequest } from "../repos/requests-repo.ts";
import type { WriteContext } from "../storage/store.ts";
import type { ServiceDeps } from "./deps.ts";

export type KillScope = "global" | "agent" | "run";

// Read on every governed call.
const activeSwitches = new QueryTemplate<never>((db) =>
  db.selectFrom("kill_switches").select("doc").where("active", "=", sql.lit(1)),
);

/** Work an engaged kill switch covers: refused, whatever was decided or approved before. */
export class KilledError extends DomainError {
  readonly status = 403;
  readonly code = "killed";
}

export interface KillSwitch {
  id: string;
  scope: KillScope;
  /** For `agent` scope: the agent key's id or name. */
  agent: string | null;
  /** For `run` scope: the run id (of any agent, or of `agent` when both are given). */
  run_id: string | null;
  reason: string;
  engaged_at: string;
  engaged_by: Principal;
  released_at: string | null;
  released_by: Principal | null;
  release_reason: string | null;
  cancelled_requests: number;
}

export interface EngageInput {
  scope: KillScope;
  agent?: string;
  run_id?: string;
  reason: string;
}

/** Who a governed call is, for matching kill switches and grants. */
export interface CallIdentity {
  agentKeyId: string;
  agentName: string;
  runId: string;
}

export class KillSwitchService {
  private readonly deps: ServiceDeps;
  constructor(deps: ServiceDeps) {
    this.deps = deps;
  }

  /**
   * The switches that stop this call. Read inside the govern transaction, after the audit head is
   * locked, so a switch committed on any replica stops the very next call everywhere.
   */
  async matching(db: Executor, who: CallIdentity): Promise<KillSwitch[]> {
    const rows = await activeSwitches.execute<{ doc: string }>(db, {});
    return rows.map((r) => JSON.parse(r.doc) as KillSwitch).filter((k) => covers(k, who));
  }

  /** The switch covering the agent and run of a request (an approved one included), if any. */
  async coveringRequest(db: Executor, request: ApprovalRequest): Promise<KillSwitch | undefined> {
    return (await this.matching(db, identityOf(request)))[0];
  }

  async list(includeReleased: boolean): Promise<KillSwitch[]> {
    let query = this.deps.store.db.selectFrom("kill_switches").select("doc").orderBy("id", "desc").limit(500);
    if (!includeReleased) query = query.where("active", "=", 1);
    return (await query.execute()).map((r) => JSON.parse(r.doc) as KillSwitch);
  }

  /** Engages a switch and cancels the pending requests it covers, all in one transaction. */
  async engage(by: Principal, input: EngageInput): Promise<KillSwitch> {
    if (input.scope === "agent" && !input.agent) {
      throw new ValidationError("an agent kill switch needs `agent`", [
        { path: "/agent", message: "is required" },
      ]);
    }
    if (input.scope === "run" && !input.run_id) {
      throw new ValidationError("a run kill switch needs `run_id`", [
        { path: "/run_id", message: "is required" },
      ]);
    }
    const now = this.deps.clock.now();
    const at = new Date(now).toISOString();
    const ks: KillSwitch = {
      id: this.deps.ids.next("ks"),
      scope: input.scope,
      agent: input.scope === "global" ? null : (input.agent ?? null),
      run_id: input.scope === "run" ? (input.run_id ?? null) : null,
      reason: input.reason,
      engaged_at: at,
      engaged_by: by,
      released_at: null,
      released_by: null,
      release_reason: null,
      cancelled_requests: 0,
    };
    return this.deps.store.write(async (ctx) => {
      const cancelled = await this.cancelCovered(ctx, ks, by, now);
      const stored = { ...ks, cancelled_requests: cancelled };
      await ctx.db
        .insertInto("kill_switches")
        .values({
          id: ks.id,
          scope: ks.scope,
          agent: ks.agent,
          run_id: ks.run_id,
          active: 1,
          created_at: at,
          doc: JSON.stringify(stored),
        })
        .execute();
      await ctx.appendAudit([
        {
          at,
          kind: "kill_switch.changed",
          subject_id: ks.id,
          correlation_id: ks.run_id,
          actor: principalActor(by),
          data: {
            engaged: true,
            scope: ks.scope,
            agent: ks.agent,
            run_id: ks.run_id,
            reason: ks.reason,
            cancelled,
          },
        },
      ]);
      ctx.changed("kill-switch");
      return stored;
    });
  }

  async release(by: Principal, id: string, reason: string | undefined): Promise<KillSwitch> {
    const at = new Date(this.deps.clock.now()).toISOString();
    return this.deps.store.write(async (ctx) => {
      const row = await ctx.db
        .selectFrom("kill_switches")
        .select("doc")
        .where("id", "=", id)
        .executeTakeFirst();
      if (!row) throw new NotFoundError(`no kill switch ${id}`);
      const ks = JSON.parse(row.doc) as KillSwitch;
      if (ks.released_at) return ks;
      const released: KillSwitch = {
        ...ks,
        released_at: at,
        released_by: by,
        release_reason: reason ?? null,
      };
      await ctx.db
        .updateTable("kill_switches")
        .set({ active: 0, doc: JSON.stringify(released) })
        .where("id", "=", id)
        .execute();
      await ctx.appendAudit([
        {
          at,
          kind: "kill_switch.changed",
          subject_id: id,
          correlation_id: ks.run_id,
          actor: principalActor(by),
          data: {
            engaged: false,
            scope: ks.scope,
            agent: ks.agent,
            run_id: ks.run_id,
            reason: reason ?? null,
          },
        },
      ]);
      ctx.changed("kill-switch");
      return released;
    });
  }

  private async cancelCovered(
    ctx: WriteContext,
    ks: KillSwitch,
    by: Principal,
    now: number,
  ): Promise<number> {
    let query = ctx.db
      .selectFrom("requests")
      .select("doc")
      .where("status", "=", sql.lit("pending"))
      .limit(10_000);
    if (ctx.dialect === "postgres") query = query.forUpdate();
    const pending = (await query.execute()).map((r) => JSON.parse(r.doc) as ApprovalRequest);
    let cancelled = 0;
    for (const request of pending) {
      if (!coversRequest(ks, request)) continue;
      const t = cancelRequest(request, { now, by, reason: `kill switch ${ks.id}: ${ks.reason}` });
      if (!(await updatePendingRequest(ctx.db, t.request))) continue;
      await ctx.appendAudit(t.audit, request.created_by.role === "agent" ? request.created_by.key_id : null);
      ctx.changed(request.id);
      cancelled++;
    }
    return cancelled;
  }
}

function agentMatches(agent: string | null, keyId: string, name: string): boolean {
  return agent === null || agent === keyId || agent === name;
}

function covers(ks: KillSwitch, who: CallIdentity): boolean {
  switch (ks.scope) {
    case "global":
      return true;
    case "agent":
      return agentMatches(ks.agent, who.agentKeyId, who.agentName);
    case "run":
      return ks.run_id === who.runId && agentMatches(ks.agent, who.agentKeyId, who.agentName);
  }
}

/** The agent and run a request belongs to, as kill switches see them. */
function identityOf(request: ApprovalRequest): CallIdentity {
  const runId = request.governance?.run_id ?? request.source?.run_id ?? request.correlation_id;
  return { agentKeyId: request.created_by.key_id, agentName: request.created_by.name, runId };
}

function coversRequest(ks: KillSwitch, request: ApprovalRequest): boolean {
  return covers(ks, identityOf(request));
}
