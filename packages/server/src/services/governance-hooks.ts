import { type ApprovalRequest, DomainError, type Principal, type RespondInput } from "@countersign/core";
import { extendRunBudget } from "../repos/governance-repo.ts";
import type { WriteContext } from "../storage/store.ts";
import type { PolicyService } from "./policy-service.ts";
import type { RespondHooks } from "./requests-service.ts";

/** A reviewer's edited arguments that the policy denies: refused, with the policy's reason. */
export class EditDeniedError extends DomainError {
  readonly status = 403;
  readonly code = "edit_denied";
}

export interface TokenIssuer {
  issueFor(request: ApprovalRequest, approvedArgs: unknown, now: number): string;
}

/**
 * What governance adds to the request lifecycle: edits are re-checked by the policy before they
 * are recorded, an approved governed request carries a token bound to the approved arguments, and
 * an approved budget extension extends the run's budget, all in the deciding transaction.
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
      const verdict = policy.current().evaluate({
        tool: request.tool.name,
        args: input.modified_args,
        agent_id: request.created_by.name,
        environment: link.environment,
        ...(link.context !== undefined ? { context: link.context } : {}),
      });
      if (verdict.decision === "deny") {
        throw new EditDeniedError(
          `the policy denies the edited arguments (rule ${verdict.rule_id}): ${verdict.reason}`,
        );
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
