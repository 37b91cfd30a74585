import { argsHash, type CountersignClient, CountersignError } from "@countersign/sdk";
import {
  type FunctionTool,
  type RunContext,
  type ToolExecuteArgument,
  type ToolInputParameters,
  type ToolOptions,
  tool,
  type UnknownContext,
} from "@openai/agents";
import { deniedMessage, pendingMessage, rejectedMessage } from "./messages.ts";
import { approvalFunction } from "./needs-approval.ts";
import { type GovernanceOptions, governInput, resolveRunId } from "./options.ts";
import { takeAllow } from "./registry.ts";

export interface GovernedToolOptions<Args> extends Omit<GovernanceOptions, "client"> {
  /** A client with an agent key; it governs calls and consumes approval tokens. */
  client: Pick<CountersignClient, "govern" | "consumeApprovalToken">;
  /** The name Countersign governs the tool as (what policies match). Default: the tool's name. */
  tool?: string;
  /**
   * Checks arguments a reviewer edited before the tool runs with them. Default: the tool's own
   * parameters schema when it is a Standard Schema (Zod is), else the edit is used as sent.
   * Throwing refuses the call: the approval token stays unused and the tool does not run.
   */
  parseApprovedArgs?: (approved: unknown) => Args | Promise<Args>;
}

/** What the SDK passes an `execute` besides the arguments (only what is used here). */
interface CallDetails {
  toolCall?: { callId?: string };
  signal?: AbortSignal;
}

type Execute<Args, Context, Result> = (
  args: Args,
  runContext?: RunContext<Context>,
  details?: CallDetails,
) => Result | Promise<Result>;

/**
 * `tool({ … })`, governed by Countersign: the call is governed before it runs (`needsApproval`),
 * and `execute` runs only as governed:
 *
 * - allowed: at once, with no interruption;
 * - denied by the policy (or a budget, or a kill switch): not at all, and without an interruption;
 *   the model receives the reason as the tool's output;
 * - approval required: the run stops with an interruption (see `resolveInterruptions`); once
 *   approved, the single-use approval token is consumed and the tool runs with the arguments the
 *   reviewer approved, which may be edited (checked against the tool's parameters first).
 *
 * Tools with an `outputSchema` are not supported: a refusal is returned as text.
 */
export function governedTool<
  TParameters extends ToolInputParameters = undefined,
  Context = UnknownContext,
  Result = string,
>(
  options: ToolOptions<TParameters, Context>,
  governance: GovernedToolOptions<ToolExecuteArgument<TParameters>>,
): FunctionTool<Context, TParameters, Result | string> {
  if (!governance?.client) throw new TypeError("governedTool needs { client }");
  type Args = ToolExecuteArgument<TParameters>;
  // The tool's name is only final once tool() has normalised it; both hooks read it lazily.
  let governedName = governance.tool ?? "";
  const original = options.execute as unknown as Execute<Args, Context, Result>;
  const parseApproved = governance.parseApprovedArgs ?? standardSchemaParser<Args>(options.parameters);

  const execute: Execute<Args, Context, Result | string> = async (args, runContext, details) => {
    const callId = details?.toolCall?.callId;
    if (!callId) throw new TypeError(`a governed call of ${governedName} needs the model's tool-call id`);
    const runId = resolveRunId(governance.runId, runContext?.context);
    const signal = details?.signal;
    const cached = takeAllow(runId, callId);
    const input = governInput(governance.govern, { runId, callId, tool: governedName, args });
    // The call was governed a moment ago by needsApproval; asking again is a replay, not a new call.
    const governed =
      cached?.tool === governedName ? cached : await governance.client.govern(input, { signal });

    if (governed.decision === "allow") return original(args, runContext, details);
    if (governed.decision === "deny") return deniedMessage(governed);
    if (governed.request_status === "rejected") return rejectedMessage(governed.review_comment);
    if (governed.request_status !== "approved" || governed.approval_token === null) {
      // Only reachable when an interruption was approved without Countersign's approval.
      return pendingMessage(governed.request_id);
    }

    const approved = governed.approved_args;
    const edited = (await argsHash(approved)) !== governed.args_hash;
    let runArgs = args;
    if (edited) {
      try {
        runArgs = await parseApproved(approved);
      } catch (error) {
        return `The arguments a reviewer approved do not fit ${governedName}'s parameters (${describe(error)}); the call did not run.`;
      }
    }
    try {
      // Bound to the approved arguments exactly as approved (before any parsing), and usable once.
      await governance.client.consumeApprovalToken(
        { token: governed.approval_token, tool: governedName, args: approved },
        { signal },
      );
    } catch (error) {
      if (error instanceof CountersignError && !error.retryable) {
        return `Countersign refused the approval (${error.code}: ${error.detail}); the call did not run.`;
      }
      throw error;
    }
    return original(runArgs, runContext, details);
  };

  const needsApproval = approvalFunction(() => governedName, governance, true);
  // tool() names a tool after its execute function when no name is given; that is now the wrapper.
  const name = options.name ?? (options.execute as { name?: string }).name;
  if (!name) throw new TypeError("governedTool needs a name (or a named execute function)");
  const built = tool({ ...options, name, needsApproval, execute } as unknown as ToolOptions<
    TParameters,
    Context
  >);
  governedName ||= built.name;
  return built as unknown as FunctionTool<Context, TParameters, Result | string>;
}

/** Validates with the parameters' Standard Schema (`~standard`), when they have one. */
function standardSchemaParser<Args>(parameters: unknown): (value: unknown) => Promise<Args> {
  const standard = (parameters as { "~standard"?: StandardSchemaLike } | undefined)?.["~standard"];
  return async (value) => {
    if (!standard || typeof standard.validate !== "function") return value as Args;
    const result = await standard.validate(value);
    if (result.issues) {
      throw new TypeError(result.issues.map((i) => i.message).join("; ") || "invalid arguments");
    }
    return result.value as Args;
  };
}

interface StandardSchemaLike {
  validate(
    value: unknown,
  ):
    | { value?: unknown; issues?: ReadonlyArray<{ message: string }> }
    | Promise<{ value?: unknown; issues?: ReadonlyArray<{ message: string }> }>;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
