import {
  type ApprovalRequest,
  ApprovalTimeoutError,
  argsHash,
  type CountersignClient,
  type CreateRequestInput,
  type GovernExtras,
  type GovernResult,
} from "@countersign/sdk";
import type { RunState, RunToolApprovalItem } from "@openai/agents";
import { countersignToolName } from "../shared/tool-name.ts";
import {
  cancelledMessage,
  deniedMessage,
  editsNotAppliedMessage,
  rejectedMessage,
  timedOutMessage,
} from "./messages.ts";
import { type AnyAgent, governInput, INTEGRATION, type RunIdOption, resolveRunId } from "./options.ts";
import { type ApprovalPolicyInfo, approvalPolicyOf, governedCall } from "./registry.ts";

export type InterruptionStatus = "approved" | "rejected" | "denied" | "timed_out" | "cancelled" | "pending";

/** What became of one interruption. */
export interface InterruptionOutcome {
  interruption: RunToolApprovalItem;
  /** The tool as Countersign knows it. */
  tool: string;
  callId: string;
  /** The Countersign request (null for a call the policy denied outright). */
  requestId: string | null;
  /** True when the call was governed (`governNeedsApproval`, `governedTool`). */
  governed: boolean;
  status: InterruptionStatus;
  /** The text the model receives for a call that does not run. */
  message: string | null;
}

export interface ResolveInterruptionsResult<TState> {
  state: TState;
  /** The run the interruptions belong to. */
  runId: string;
  outcomes: InterruptionOutcome[];
  /** The interruptions still waiting for a reviewer (empty once all are decided). */
  pending: InterruptionOutcome[];
  /** True when every interruption is approved or rejected: run `state` again to continue. */
  ready: boolean;
}

export interface ResolveInterruptionsOptions {
  /** A client with the agent key the run governs its calls with. */
  client: Pick<CountersignClient, "govern" | "createRequest" | "waitForDecision">;
  /**
   * Wait for reviewers (default true). With false, the pending requests are created (or found) and
   * the function returns at once: save the state (`saveRunState`) and come back when they are decided.
   */
  wait?: boolean;
  /** Stop waiting after this long; what is still undecided is reported as pending. Default: no limit. */
  timeoutMs?: number;
  /** How long each long-poll is held, 1–60 s. */
  pollSeconds?: number;
  signal?: AbortSignal;
  /** As for `governNeedsApproval`: the run id, or how to read it from the run's context. */
  runId?: RunIdOption;
  /** Sent when governed calls are asked again (must not contradict what `needsApproval` sent). */
  govern?: GovernExtras;
  /**
   * Extra fields for the requests of calls nobody governed (tools with `needsApproval: true` or
   * a function of your own), e.g. `required_role`, `ttl_seconds`, `priority`.
   */
  request?: Omit<CreateRequestInput, "type" | "tool" | "external_request_id" | "correlation_id">;
}

/** A RunResult, or a RunState (for instance one restored with `loadRunState`). */
export type Interrupted<TContext, TAgent extends AnyAgent> =
  | RunState<TContext, TAgent>
  | { state: RunState<TContext, TAgent> };

/**
 * Turns each interruption of a run into a Countersign decision and applies it to the run state:
 * `state.approve(item)` once approved, `state.reject(item, { message })` otherwise, with the
 * reviewer's comment (or the policy's reason) as the message the model receives.
 *
 * Governed calls already have their request (parked by `govern`, external id
 * `govern:{runId}:{callId}`); every other interruption becomes an approval request with external id
 * `openai:{runId}:{callId}` and the run id as correlation id. Both are idempotent, so calling this
 * again (after a crash, or with `wait: false` and later with `wait: true`) finds the same requests.
 *
 * Then run the state again when `ready`: `result = await run(agent, resolved.state)`.
 */
export async function resolveInterruptions<TContext, TAgent extends AnyAgent>(
  result: Interrupted<TContext, TAgent>,
  options: ResolveInterruptionsOptions,
): Promise<ResolveInterruptionsResult<RunState<TContext, TAgent>>> {
  if (!options?.client) throw new TypeError("resolveInterruptions needs { client }");
  const state = stateOf(result);
  const runId = resolveRunId(options.runId, state._context.context);

  const outcomes = await Promise.all(
    state.getInterruptions().map((item) => resolveOne(item, runId, options)),
  );
  for (const outcome of outcomes) {
    if (outcome.status === "approved") state.approve(outcome.interruption);
    else if (outcome.status !== "pending") {
      state.reject(outcome.interruption, { message: outcome.message ?? rejectedMessage(null) });
    }
  }
  const pending = outcomes.filter((o) => o.status === "pending");
  return { state, runId, outcomes, pending, ready: pending.length === 0 };
}

function stateOf<TContext, TAgent extends AnyAgent>(
  result: Interrupted<TContext, TAgent>,
): RunState<TContext, TAgent> {
  if ("getInterruptions" in result && typeof result.getInterruptions === "function") return result;
  if ("state" in result && result.state) return result.state;
  throw new TypeError("expected a RunResult or a RunState");
}

async function resolveOne(
  item: RunToolApprovalItem,
  runId: string,
  options: ResolveInterruptionsOptions,
): Promise<InterruptionOutcome> {
  const callId = callIdOf(item);
  const policy = policyOf(item);
  const remembered = governedCall(runId, callId);
  if (policy || remembered) {
    const tool = remembered?.tool ?? policy?.tool ?? toolNameOf(item);
    const args = remembered ? remembered.args : argumentsOf(item);
    return resolveGoverned(item, { runId, callId, tool, args }, policy, options);
  }
  return resolveUngoverned(item, { runId, callId, tool: toolNameOf(item), args: argumentsOf(item) }, options);
}

interface Call {
  runId: string;
  callId: string;
  tool: string;
  args: unknown;
}

async function resolveGoverned(
  item: RunToolApprovalItem,
  call: Call,
  policy: ApprovalPolicyInfo | undefined,
  options: ResolveInterruptionsOptions,
): Promise<InterruptionOutcome> {
  const input = governInput(options.govern, call);
  let governed = await options.client.govern(input, { signal: options.signal });
  if (governed.request_status === "pending" && governed.request_id && options.wait !== false) {
    const decided = await waitForDecision(governed.request_id, options);
    // Asked again for the authoritative outcome: a kill switch engaged meanwhile overrides an approval.
    if (decided.status !== "pending")
      governed = await options.client.govern(input, { signal: options.signal });
  }
  const base = { interruption: item, tool: call.tool, callId: call.callId, governed: true };
  return { ...base, requestId: governed.request_id, ...(await governedStatus(governed, policy)) };
}

async function governedStatus(
  governed: GovernResult,
  policy: ApprovalPolicyInfo | undefined,
): Promise<Pick<InterruptionOutcome, "status" | "message">> {
  if (governed.decision === "deny") return { status: "denied", message: deniedMessage(governed) };
  if (governed.decision === "allow") return { status: "approved", message: null };
  switch (governed.request_status) {
    case "approved": {
      const edited = (await argsHash(governed.approved_args)) !== governed.args_hash;
      // Without a governed execute the SDK would run the proposed arguments, not the approved ones.
      if (edited && !policy?.appliesEdits) {
        return { status: "rejected", message: editsNotAppliedMessage(governed.approved_args) };
      }
      return { status: "approved", message: null };
    }
    case "rejected":
      return { status: "rejected", message: rejectedMessage(governed.review_comment) };
    case "timed_out":
      return { status: "timed_out", message: timedOutMessage(governed.request_id) };
    case "cancelled":
      return { status: "cancelled", message: cancelledMessage(governed.request_id, null) };
    default:
      return { status: "pending", message: null };
  }
}

async function resolveUngoverned(
  item: RunToolApprovalItem,
  call: Call,
  options: ResolveInterruptionsOptions,
): Promise<InterruptionOutcome> {
  const { request: created } = await options.client.createRequest(
    {
      question: `Allow the agent to call ${call.tool}?`,
      ...options.request,
      type: "approval",
      tool: { name: call.tool, args: call.args },
      external_request_id: `openai:${call.runId}:${call.callId}`,
      correlation_id: call.runId,
      source: options.request?.source ?? { integration: INTEGRATION, run_id: call.runId },
      metadata: { ...options.request?.metadata, agent: item.agent?.name ?? null, call_id: call.callId },
    },
    { signal: options.signal },
  );
  const request =
    created.status === "pending" && options.wait !== false
      ? await waitForDecision(created.id, options)
      : created;
  const base = { interruption: item, tool: call.tool, callId: call.callId, governed: false };
  return { ...base, requestId: request.id, ...requestStatus(request) };
}

function requestStatus(request: ApprovalRequest): Pick<InterruptionOutcome, "status" | "message"> {
  switch (request.status) {
    case "approved":
    case "answered": {
      const edits = request.response?.modified_args;
      // The SDK can only approve the call as proposed; an edit cannot be applied, so it does not run.
      if (edits !== null && edits !== undefined) {
        return { status: "rejected", message: editsNotAppliedMessage(edits) };
      }
      return { status: "approved", message: null };
    }
    case "rejected":
      return { status: "rejected", message: rejectedMessage(request.response?.comment ?? null) };
    case "timed_out":
      return { status: "timed_out", message: timedOutMessage(request.id) };
    case "cancelled":
      return {
        status: "cancelled",
        message: cancelledMessage(request.id, request.cancellation?.reason ?? null),
      };
    case "pending":
      return { status: "pending", message: null };
  }
}

/** The request once decided, or as it stands when `timeoutMs` runs out. */
async function waitForDecision(id: string, options: ResolveInterruptionsOptions): Promise<ApprovalRequest> {
  try {
    return await options.client.waitForDecision(id, {
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.pollSeconds !== undefined ? { pollSeconds: options.pollSeconds } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    if (error instanceof ApprovalTimeoutError && error.reason === "wait_timeout") return error.request;
    throw error;
  }
}

/** The Countersign policy behind an interruption's tool, when the tool's needsApproval is ours. */
function policyOf(item: RunToolApprovalItem): ApprovalPolicyInfo | undefined {
  const name = item.toolName ?? item.name;
  const tools = (
    item.agent as { tools?: ReadonlyArray<{ type?: string; name?: string; needsApproval?: unknown }> }
  )?.tools;
  const match = tools?.find((t) => t.type === "function" && t.name === name);
  return approvalPolicyOf(match?.needsApproval);
}

function callIdOf(item: RunToolApprovalItem): string {
  const raw = item.rawItem as { callId?: unknown; id?: unknown };
  const id = typeof raw.callId === "string" && raw.callId ? raw.callId : raw.id;
  if (typeof id !== "string" || id === "")
    throw new TypeError("an interruption without a call id cannot be governed");
  return id;
}

function toolNameOf(item: RunToolApprovalItem): string {
  return countersignToolName(item.toolName ?? item.name ?? item.rawItem.type);
}

/** The call's arguments: the function call's JSON, or the action of a shell/computer/patch call. */
export function argumentsOf(item: RunToolApprovalItem): unknown {
  const text = item.arguments;
  if (typeof text === "string") {
    try {
      return JSON.parse(text);
    } catch {
      return { arguments: text };
    }
  }
  const raw = item.rawItem as { action?: unknown; operation?: unknown };
  return raw.action ?? raw.operation ?? {};
}
