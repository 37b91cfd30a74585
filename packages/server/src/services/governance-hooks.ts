import {
  type ApprovalRequest,
  DomainError,
  type PolicyDecision,
  type Principal,
  type RespondInput,
} from "@countersign/core";
import { extendRunBudget } from "../repos/governance-repo.ts";
import type { WriteContext } from "../storage/store.ts";
import type { PolicyService } from "./policy-service.ts";
import type { RespondHooks } from "./requests-service.ts";

/**
 * A reviewer's edited arguments that this request may not approve: the policy denies the edited
 * call, or needs a stricter approval for it than the request has. Refused, with the rule and reason.
 */
export class EditDeniedError extends DomainError {
  readonly status = 403;
  readonly code = "edit_denied";
}

/**
 * Why the edited call may not be approved under this request, or null when it may. An edit must not
 * escape the policy: the edited call is refused when the policy denies it, or when it needs approval
 * under stricter requirements than the request's own: a rule naming roles that are not all among the
 * request's `required_roles`, or asking for more approvals. An edit the policy would simply allow,
 * or that needs no more than the request already does, is fine.
 */
export function editRefusal(
  request: Pick<ApprovalRequest, "required_roles" | "required_approvals">,
  verdict: PolicyDecision,
): string | null {
  const rule = `(rule ${verdict.rule_id}): ${verdict.reason}`;
  if (verdict.decision === "deny") return `the policy denies the edited arguments ${rule}`;
  if (verdict.decision !== "approval_required") return null;
  // As when the call is parked: no requirement means one approval by any reviewer.
  const roles = verdict.approval?.required_roles ?? [];
  const approvals = verdict.approval?.required_approvals ?? 1;
  const missing = roles.filter((role) => !request.required_roles.includes(role));
  const problems: string[] = [];
  if (roles.length > 0 && missing.length > 0) {
    const required =
      request.required_roles.length > 0 ? request.required_roles.join(", ") : "no particular role";
    problems.push(`approval by ${roles.join(" or ")} (this request: ${required})`);
  }
  if (approvals > request.required_approvals) {
    problems.push(`${approvals} approvals (this request: ${request.required_approvals})`);
  }
  if (problems.length === 0) return null;
  return `the edited arguments need a stricter approval than this request has ${rule}; they need ${problems.join(" and ")}. Approve or reject the proposed call, or let the agent make the edited call itself`;
}

export interface TokenIssuer {
  issueFor(request: ApprovalRequest, approvedArgs: unknown, now: number): string;
}

/**
 * What governance adds to the request lifecycle: edits are re-checked by the policy before they
 * are recorded (see `editRefusal`), an approved governed request carries a token bound to the
 * approved arguments, and an approved budget extension extends the run's budget, all in the
 * deciding transaction.
 */
export function governanceHooks(
  policy: PolicyService,
  tokens: TokenIssuer,
  clock: { now(): number },
): RespondHooks {
  return {
    check(request: ApprovalRequest, input: RespondInput, _by: Principal): void {
      const link = request.governance;
      if (!link || input.approved !== true || input.modified_args === undefined || !request.tool) return;
      // The edited call, judged as the proposed one was: same tool, agent, environment and context.
      const verdict = policy.current().evaluate({
        tool: request.tool.name,
        args: input.modified_args ?? {},
        agent_id: request.created_by.name,
        environment: link.environment,
        ...(link.context !== undefined ? { context: link.context } : {}),
      });
      const refusal = editRefusal(request, verdict);
      if (refusal !== null) {
        throw new EditDeniedError(refusal, [{ path: "/modified_args", message: refusal }]);
      }
    },
    async decided(ctx: WriteContext, request: ApprovalRequest): Promise<ApprovalRequest> {
      const link = request.governance;
      if (!link || request.status !== "approved" || !request.tool) return request;
      if (link.kind === "budget_extension") {
        await extendRunBudget(
          ctx.db,
          request.created_by.key_id,
          link.run_id,
          new Date(clock.now()).toISOString(),
        );
      }
      const approvedArgs = request.response?.modified_args ?? request.tool.args;
      return { ...request, approval_token: tokens.issueFor(request, approvedArgs, clock.now()) };
    },
  };
}
