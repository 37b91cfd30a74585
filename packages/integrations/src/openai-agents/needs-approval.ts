import type { RunContext } from "@openai/agents";
import { type GovernanceOptions, governInput, resolveRunId } from "./options.ts";
import { registerApprovalPolicy, rememberAllow, rememberGovernedCall } from "./registry.ts";

/** The shape of a function tool's `needsApproval` (`ToolApprovalFunction` in `@openai/agents`). */
export type GovernedApprovalFunction = (
  runContext: RunContext<unknown>,
  input: unknown,
  callId?: string,
) => Promise<boolean>;

/**
 * A `needsApproval` for `tool({ … })` that asks Countersign (`POST /v1/govern`) about each call:
 *
 * - `allow`: returns false, so the tool runs at once, with no interruption;
 * - `approval_required`: returns true, so the run stops with an interruption; the call is parked as
 *   a Countersign request and `resolveInterruptions` approves or rejects it once a reviewer decides;
 * - `deny`: returns true as well, so the call can never run; `resolveInterruptions` then rejects it
 *   at once with the policy's reason, without involving anyone. (`governedTool` avoids that extra
 *   interruption, because its wrapped `execute` refuses the call itself.)
 *
 * `toolName` is the name Countersign governs the call as (policies match it). The call is governed
 * idempotently on (run id, tool-call id): the SDK evaluating the policy again, a retry, or a
 * resumed run all get the same answer and the same parked request.
 */
export function governNeedsApproval(toolName: string, options: GovernanceOptions): GovernedApprovalFunction {
  return approvalFunction(toolName, options, false);
}

/** Shared with `governedTool`, which also wraps `execute` and may therefore let denials through to it. */
export function approvalFunction(
  toolName: string | (() => string),
  options: GovernanceOptions,
  executeIsGoverned: boolean,
): GovernedApprovalFunction {
  if (!options?.client) throw new TypeError("governNeedsApproval needs { client }");
  const nameOf = typeof toolName === "function" ? toolName : () => toolName;
  const fn: GovernedApprovalFunction = async (runContext, input, callId) => {
    if (!callId) throw new TypeError("Countersign governs function tool calls, which carry a call id");
    const runId = resolveRunId(options.runId, runContext?.context);
    const tool = nameOf();
    rememberGovernedCall(runId, callId, { tool, args: input });
    const result = await options.client.govern(
      governInput(options.govern, { runId, callId, tool, args: input }),
    );
    if (result.decision === "allow") {
      rememberAllow(runId, callId, result);
      return false;
    }
    // A denied call only skips the interruption when the wrapped execute is there to refuse it.
    return !(result.decision === "deny" && executeIsGoverned);
  };
  registerApprovalPolicy(fn, {
    get tool() {
      return nameOf();
    },
    appliesEdits: executeIsGoverned,
  });
  return fn;
}
