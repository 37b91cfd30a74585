import { argsHash } from "./approval-token.ts";
import type { CountersignClient } from "./client.ts";
import { CountersignError, invalidResponse } from "./errors.ts";
import type { GovernInput, GovernResult, TokenConsumption } from "./governance-types.ts";
import {
  ApprovalRejectedError,
  ApprovalTimeoutError,
  GovernDeniedError,
  RequestCancelledError,
} from "./outcome-errors.ts";

/*
 * `guard(client, tool, fn)`: a tool function that runs only as governed. Each call asks the policy
 * first; an allowed call runs at once, a denied one throws, and one that needs approval parks
 * until a human decides, then runs with the arguments that were approved (a reviewer may have
 * edited them), after its single-use approval token has been consumed. A token that cannot be
 * consumed (already used, expired, altered) means the tool does not run.
 */

/** What `govern` is sent besides the run, call, tool and arguments. */
export type GovernExtras = Omit<GovernInput, "run_id" | "call_id" | "tool" | "args">;

/** The client calls a guard makes. */
export type GuardClient = Pick<CountersignClient, "govern" | "waitForDecision" | "consumeApprovalToken">;

export interface GuardOptions<Args> {
  /** Sent with every governed call of this tool (e.g. `agent_id`, `environment`); per-call values win. */
  govern?: GovernExtras;
  /** Default for `GuardCallOptions.timeoutMs`. */
  timeoutMs?: number;
  /** How long each long-poll for a decision is held, 1–60 s. Default 30. */
  pollSeconds?: number;
  /**
   * Checks the approved arguments before they are used. A reviewer may have edited them, so they
   * are only `unknown` until checked; throwing here leaves the token unconsumed and `fn` not run.
   */
  parseApprovedArgs?: (approved: unknown) => Args;
}

export interface GuardCallOptions {
  /** The agent's run or session id; budgets and kill switches apply per run. */
  runId: string;
  /**
   * The call's id within the run; one is generated when absent. Pass a stable one (the model's
   * tool-call id, or a step number) so that calling again after a crash or a `wait_timeout`
   * resumes the same governed call: it is not counted against the budget twice, it waits on the
   * same request instead of asking reviewers again, and an approval already given is picked up.
   */
  callId?: string;
  /** Aborts the governed call, the wait for a decision, or the token consumption. */
  signal?: AbortSignal;
  /**
   * How long to wait for a human decision; then `ApprovalTimeoutError` (`wait_timeout`, retryable:
   * the request stays pending, and calling again with the same `callId` resumes the wait). Default:
   * no limit (the request's own TTL still applies).
   */
  timeoutMs?: number;
  /** Overrides `GuardOptions.pollSeconds`. */
  pollSeconds?: number;
  /** Overrides `GuardOptions.govern`, field by field. */
  govern?: GovernExtras;
}

/** What the guarded function is told besides its arguments. */
export interface GuardContext {
  /** The governed call's answer (for an approved call, the refreshed one carrying the token). */
  governed: GovernResult;
  /** The consumed approval token, when the call needed an approval; null for an allowed call. */
  approval: TokenConsumption | null;
  signal: AbortSignal | undefined;
}

export type GuardedFunction<Args, Result> = (args: Args, call: GuardCallOptions) => Promise<Result>;

/**
 * Wraps `fn` so that it runs only as `tool` is governed: on `allow` with `args`; on
 * `approval_required` after a human approved, with the approved arguments and a consumed token.
 * Throws `GovernDeniedError` on `deny`, `ApprovalRejectedError` (with the reviewer's comment),
 * `ApprovalTimeoutError` or `RequestCancelledError` when the approval does not come, and a
 * `CountersignError` when the server cannot be asked or refuses the token; `fn` does not run then.
 */
export function guard<Args, Result>(
  client: GuardClient,
  tool: string,
  fn: (args: Args, context: GuardContext) => Result | Promise<Result>,
  options: GuardOptions<Args> = {},
): GuardedFunction<Args, Result> {
  if (typeof tool !== "string" || tool === "") throw new TypeError("guard needs a tool name");
  return async (args, call) => {
    if (!call || typeof call.runId !== "string" || call.runId === "") {
      throw new TypeError(`a governed call of ${tool} needs a runId`);
    }
    const { signal } = call;
    const input: GovernInput = {
      ...options.govern,
      ...call.govern,
      run_id: call.runId,
      call_id: call.callId ?? newCallId(),
      tool,
      args,
    };
    const first = await client.govern(input, { signal });
    await checkSameCall(first, input);

    if (first.decision === "allow") return fn(args, { governed: first, approval: null, signal });
    if (first.decision === "deny") throw new GovernDeniedError(first);
    if (first.request_id === null) {
      throw invalidResponse(`govern answered approval_required for ${tool} without a request`, 200);
    }

    const timeoutMs = call.timeoutMs ?? options.timeoutMs;
    const pollSeconds = call.pollSeconds ?? options.pollSeconds;
    const request = await client.waitForDecision(first.request_id, {
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      ...(pollSeconds !== undefined ? { pollSeconds } : {}),
      ...(signal ? { signal } : {}),
    });
    switch (request.status) {
      case "approved":
        break;
      case "rejected":
        throw new ApprovalRejectedError(request);
      case "timed_out":
        throw new ApprovalTimeoutError(request, "request_expired");
      case "cancelled":
        throw new RequestCancelledError(request);
      default:
        throw invalidResponse(`request ${request.id} of a governed call ended ${request.status}`, 200);
    }

    // The governed call, asked again, is the authority on what was approved and its token.
    const approved = await client.govern(input, { signal });
    await checkSameCall(approved, input);
    if (approved.request_status !== "approved" || approved.approval_token === null) {
      throw invalidResponse(
        `request ${request.id} is approved, but the governed call carries no approval token`,
        200,
      );
    }
    const approvedArgs = options.parseApprovedArgs
      ? options.parseApprovedArgs(approved.approved_args)
      : (approved.approved_args as Args);
    const consumed = await client.consumeApprovalToken(
      { token: approved.approval_token, tool, args: approvedArgs },
      { signal },
    );
    return fn(approvedArgs, { governed: approved, approval: consumed, signal });
  };
}

/**
 * The server answers a repeated (run_id, call_id) with the first call's decision, so a call id
 * reused for another tool or other arguments would get an answer about a different call. Refused
 * here rather than run on someone else's approval.
 */
async function checkSameCall(result: GovernResult, input: GovernInput): Promise<void> {
  const sameTool = result.tool === input.tool;
  // Hashing needs WebCrypto; where it is missing (Node 18 without a global `crypto`), only the tool is compared.
  const sameArgs = globalThis.crypto?.subtle ? result.args_hash === (await argsHash(input.args)) : true;
  if (sameTool && sameArgs) return;
  throw new CountersignError({
    status: 409,
    code: "idempotency_mismatch",
    detail: `call_id ${JSON.stringify(input.call_id)} of run ${JSON.stringify(input.run_id)} was governed before for ${
      sameTool ? "other arguments" : `tool ${result.tool}`
    }; give every distinct call its own call_id`,
    retryable: false,
  });
}

/** A fresh call id: a UUID where the runtime has one, else time plus randomness (unique enough per run). */
function newCallId(): string {
  const uuid = globalThis.crypto?.randomUUID?.();
  if (uuid) return `call_${uuid}`;
  return `call_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 12)}`;
}
