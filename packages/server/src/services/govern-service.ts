import {
  type ApprovalRequest,
  argsHash,
  checkBudgets,
  type NewRequestInput,
  type PolicyDecision,
  type PolicyInput,
  type Principal,
  principalActor,
} from "@countersign/core";
import { type Executor, isUniqueViolation } from "../repos/executor.ts";
import { addRunUsage, insertGovernedCall, type RunUsage } from "../repos/governance-repo.ts";
import type { WriteContext } from "../storage/store.ts";
import type { ServiceDeps } from "./deps.ts";
import { replayGovernedCall } from "./govern-replay.ts";
import {
  type BudgetView,
  budgetLimits,
  type GovernDecision,
  type GovernInput,
  type GovernResult,
  type StopReason,
} from "./govern-types.ts";
import type { GrantsService } from "./grants-service.ts";
import type { CallIdentity, KillSwitchService } from "./kill-switch-service.ts";
import type { PolicyService } from "./policy-service.ts";
import type { RequestsService } from "./requests-service.ts";

export interface GovernCollaborators {
  policy: PolicyService;
  killSwitch: KillSwitchService;
  grants: GrantsService;
  requests: RequestsService;
}

interface Verdict {
  decision: GovernDecision;
  reason: string;
  rule_id: string;
  risk: string | null;
  stop_reason: StopReason | null;
  approval: PolicyDecision["approval"];
  kind: "policy" | "budget_extension";
  grant_id: string | null;
}

/**
 * `POST /v1/govern`: one round trip decides a tool call. Order of precedence: the kill switch,
 * then budgets, then the policy's deny rules, then standing grants, then the policy's outcome.
 * The decision, its audit entry and (for approval_required) the parked request commit together,
 * durably, before the answer is sent.
 */
export class GovernService {
  private readonly deps: ServiceDeps;
  private readonly c: GovernCollaborators;
  /** Results decided just now, with the JSON they were stored as (which is what the answer is). */
  private readonly storedJson = new WeakMap<GovernResult, string>();

  constructor(deps: ServiceDeps, collaborators: GovernCollaborators) {
    this.deps = deps;
    this.c = collaborators;
  }

  async govern(by: Principal, input: GovernInput): Promise<GovernResult> {
    // Hashing first also refuses arguments that cannot be canonicalised (NaN, lone surrogates).
    const hash = argsHash(input.args ?? {});
    try {
      return await this.deps.store.write((ctx) => this.decide(ctx, by, input, hash));
    } catch (error) {
      // The same call raced in on another replica: answer with what it decided.
      if (input.call_id && isUniqueViolation(error)) {
        const replay = await this.replay(this.deps.store.db, by, input, input.call_id, hash);
        if (replay) return replay;
      }
      throw error;
    }
  }

  /**
   * The JSON a result returned by `govern` was stored as, when it was decided by that very call
   * (not a replay): the route sends it as it is instead of serialising the same object again.
   */
  jsonOf(result: GovernResult): string | undefined {
    return this.storedJson.get(result);
  }

  /** What this call id was answered before, refreshed (see govern-replay.ts), if it was governed. */
  private replay(db: Executor, by: Principal, input: GovernInput, callId: string, hash: string) {
    const call = { tool: input.tool, argsHash: hash };
    return replayGovernedCall(db, by, input.run_id, callId, call, this.c.killSwitch);
  }

  private async decide(
    ctx: WriteContext,
    by: Principal,
    input: GovernInput,
    hash: string,
  ): Promise<GovernResult> {
    if (input.call_id) {
      const replay = await this.replay(ctx.db, by, input, input.call_id, hash);
      if (replay) return replay;
    }
    const now = this.deps.clock.now();
    const at = new Date(now).toISOString();
    const who: CallIdentity = { agentKeyId: by.key_id, agentName: by.name, runId: input.run_id };
    const policy = this.c.policy.current();
    const policyInput: PolicyInput = {
      tool: input.tool,
      args: input.args ?? {},
      agent_id: by.name,
      environment: input.environment ?? null,
      ...(input.context !== undefined ? { context: input.context } : {}),
    };

    const killed = await this.c.killSwitch.matching(ctx.db, who);
    let usage: RunUsage | null = null;
    let budgets: BudgetView | null = null;
    let verdict: Verdict;
    const first = killed[0];
    if (first) {
      verdict = this.stop(
        "killed",
        `kill switch ${first.id} (${first.scope}): ${first.reason}`,
        `kill_switch:${first.id}`,
      );
    } else {
      usage = await addRunUsage(ctx.db, {
        agent_key_id: by.key_id,
        run_id: input.run_id,
        steps: input.steps ?? 1,
        usd: input.cost_usd ?? 0,
        at,
      });
      budgets = this.budgetView(usage, now);
      verdict = this.judge(policy.evaluate(policyInput), budgets, policy.budgets);
      // Standing grants turn approval_required (and, for admins' grants, a default deny) into allow;
      // explicit deny rules, policy errors, budgets and the kill switch were decided above and are
      // never overridden.
      const defaultDeny = verdict.decision === "deny" && verdict.rule_id === "default";
      const grantable =
        verdict.kind === "policy" && (verdict.decision === "approval_required" || defaultDeny);
      if (grantable) {
        const grant = await this.c.grants.useMatching(ctx, who, policyInput, now, {
          default_deny: defaultDeny,
          approval: verdict.approval,
        });
        if (grant) {
          verdict = {
            decision: "allow",
            reason: `standing grant ${grant.id}${grant.reason ? `: ${grant.reason}` : ""}`,
            rule_id: `grant:${grant.id}`,
            risk: verdict.risk,
            stop_reason: null,
            approval: null,
            kind: "policy",
            grant_id: grant.id,
          };
          await ctx.appendAudit(
            [
              {
                at,
                kind: "grant.used",
                subject_id: grant.id,
                correlation_id: input.correlation_id ?? input.run_id,
                actor: principalActor(by),
                data: { tool: input.tool, args_hash: hash, uses: grant.uses, max_uses: grant.max_uses },
              },
            ],
            by.key_id,
          );
        }
      }
    }

    const id = this.deps.ids.next("gov");
    const correlationId = input.correlation_id ?? input.run_id;
    let request: ApprovalRequest | null = null;
    if (verdict.decision === "approval_required") {
      request = await this.park(ctx, by, input, verdict, {
        id,
        correlationId,
        policyVersion: policy.version,
      });
    }
    const result: GovernResult = {
      id,
      decision: verdict.decision,
      reason: verdict.reason,
      rule_id: verdict.rule_id,
      policy_version: policy.version,
      risk: verdict.risk,
      stop_reason: verdict.stop_reason,
      run_id: input.run_id,
      call_id: input.call_id ?? null,
      correlation_id: correlationId,
      tool: input.tool,
      args_hash: hash,
      request_id: request?.id ?? null,
      request_status: request?.status ?? null,
      approval_token: null,
      review_comment: null,
      approved_args: null,
      grant_id: verdict.grant_id,
      budgets,
      replayed: false,
      created_at: at,
    };
    const doc = JSON.stringify(result);
    await insertGovernedCall(ctx.db, {
      id,
      agent_key_id: by.key_id,
      run_id: input.run_id,
      call_id: input.call_id ?? null,
      decision: result.decision,
      request_id: result.request_id,
      correlation_id: correlationId,
      created_at: at,
      doc,
    });
    ctx.afterCommit(() => this.storedJson.set(result, doc));
    const kind =
      result.decision === "allow" ? "allowed" : result.decision === "deny" ? "denied" : "approval_required";
    await ctx.appendAudit(
      [
        {
          at,
          kind: `govern.${kind}`,
          subject_id: id,
          correlation_id: correlationId,
          actor: principalActor(by),
          data: {
            run_id: input.run_id,
            call_id: result.call_id,
            tool: input.tool,
            args_hash: hash,
            decision: result.decision,
            reason: result.reason,
            rule_id: result.rule_id,
            policy_version: policy.version,
            risk: result.risk,
            stop_reason: result.stop_reason,
            request_id: result.request_id,
            grant_id: result.grant_id,
            claimed_agent_id: input.agent_id ?? null,
            environment: input.environment ?? null,
            cost_usd: input.cost_usd ?? null,
            trace_id: input.trace_id ?? null,
          },
        },
      ],
      by.key_id,
    );
    ctx.changed(id);
    return result;
  }

  private stop(stop_reason: StopReason, reason: string, rule_id: string): Verdict {
    return {
      decision: "deny",
      reason,
      rule_id,
      risk: null,
      stop_reason,
      approval: null,
      kind: "policy",
      grant_id: null,
    };
  }

  private judge(
    decision: PolicyDecision,
    budgets: BudgetView | null,
    policyBudgets: ReturnType<PolicyService["current"]>["budgets"],
  ): Verdict {
    if (budgets && budgets.exceeded.length > 0 && policyBudgets) {
      const reason = `run budget exceeded: ${budgets.exceeded.join(", ")}`;
      if (policyBudgets.on_exceed === "approval_required" && policyBudgets.approval) {
        return {
          decision: "approval_required",
          reason: `${reason}; a reviewer may extend it`,
          rule_id: "budget",
          risk: policyBudgets.risk,
          stop_reason: "approval_required",
          approval: policyBudgets.approval,
          kind: "budget_extension",
          grant_id: null,
        };
      }
      return this.stop("budget_exceeded", reason, "budget");
    }
    return {
      decision: decision.decision,
      reason: decision.reason,
      rule_id: decision.rule_id,
      risk: decision.risk,
      stop_reason:
        decision.decision === "deny"
          ? (decision.stop_reason ?? "policy_denied")
          : decision.decision === "approval_required"
            ? "approval_required"
            : null,
      approval: decision.approval,
      kind: "policy",
      grant_id: null,
    };
  }

  private budgetView(usage: RunUsage, now: number): BudgetView | null {
    const policyBudgets = this.c.policy.current().budgets;
    const limits = budgetLimits(policyBudgets, usage.budget_extensions);
    if (!limits) return null;
    const firstAt = Date.parse(usage.first_call_at);
    const check = checkBudgets(
      limits,
      {
        steps: usage.steps,
        tool_calls: usage.tool_calls,
        first_call_at_ms: firstAt,
        usd: usage.usd,
      },
      now,
    );
    return {
      limits,
      usage: {
        steps: usage.steps,
        tool_calls: usage.tool_calls,
        seconds: Math.max(0, (now - firstAt) / 1000),
        usd: usage.usd,
      },
      remaining: check.remaining,
      exceeded: check.exceeded,
      extensions: usage.budget_extensions,
    };
  }

  private async park(
    ctx: WriteContext,
    by: Principal,
    input: GovernInput,
    verdict: Verdict,
    link: { id: string; correlationId: string; policyVersion: string },
  ): Promise<ApprovalRequest> {
    const approval = verdict.approval;
    const body: NewRequestInput = {
      type: "approval",
      question: input.question ?? `Allow ${input.tool}? ${verdict.reason}`,
      tool: { name: input.tool, args: input.args ?? {} },
      correlation_id: link.correlationId,
      required_roles: approval ? [...approval.required_roles] : [],
      required_approvals: approval?.required_approvals ?? 1,
      priority: approval?.priority ?? "normal",
      ...(approval?.ttl_seconds ? { ttl_seconds: approval.ttl_seconds } : {}),
      ...(approval?.require_distinct_roles ? { require_distinct_roles: true } : {}),
      ...(approval?.escalate_after_seconds !== undefined
        ? { escalate_after_seconds: approval.escalate_after_seconds }
        : {}),
      ...(input.call_id ? { external_request_id: `govern:${input.run_id}:${input.call_id}` } : {}),
      ...(input.context !== undefined
        ? {
            context:
              typeof input.context === "string" ? input.context : (input.context as Record<string, unknown>),
          }
        : {}),
      ...(input.agent_id ? { actor: { agent_id: input.agent_id } } : {}),
      source: input.source ?? { integration: "govern", run_id: input.run_id },
      ...(input.trace_id ? { trace_id: input.trace_id } : {}),
      ...(input.parent_trace_id ? { parent_trace_id: input.parent_trace_id } : {}),
      ...(input.tool_calls ? { tool_calls: input.tool_calls } : {}),
      ...(input.retrieved_context !== undefined ? { retrieved_context: input.retrieved_context } : {}),
      ...(input.callback_url ? { callback_url: input.callback_url } : {}),
      metadata: {
        ...(input.metadata ?? {}),
        governed_call_id: link.id,
        rule_id: verdict.rule_id,
        policy_version: link.policyVersion,
        risk: verdict.risk,
      },
    };
    const { request } = await this.c.requests.createInTx(ctx, by, body, {
      governed_call_id: link.id,
      run_id: input.run_id,
      call_id: input.call_id ?? null,
      rule_id: verdict.rule_id,
      policy_version: link.policyVersion,
      risk: verdict.risk,
      reason: verdict.reason,
      kind: verdict.kind,
      environment: input.environment ?? null,
      ...(input.context !== undefined ? { context: input.context } : {}),
    });
    return request;
  }
}
