import {
  ApprovalTimeoutError,
  argsHash,
  CountersignClient,
  CountersignError,
  type GovernInput,
  type GovernResult,
} from "@countersign/sdk";
import { type HookInput, parseHookInput, summarise } from "./hook-input.ts";
import { type PendingAnswer, renderVerdict, type Verdict } from "./hook-output.ts";

/*
 * `countersign hook claude-code`: Claude Code's PreToolUse / PermissionRequest hook. Every tool
 * call is governed (`POST /v1/govern`) as call `tool_use_id` of run `session_id`; a call that
 * needs approval waits for a reviewer within the hook's time budget, and past it is deferred
 * (park, don't fail): the request stays open, and when the session is resumed the hook governs
 * the same call again and finds the decision already made. Anything that goes wrong fails closed.
 */

export type HookClient = Pick<CountersignClient, "govern" | "waitForDecision" | "consumeApprovalToken">;

export interface ClaudeCodeHookOptions {
  /** The hook's JSON input, as read from stdin. */
  stdin: string;
  /** COUNTERSIGN_URL, COUNTERSIGN_API_KEY and the COUNTERSIGN_HOOK_* settings. */
  env?: Record<string, string | undefined>;
  /** Injected in tests; by default a client for COUNTERSIGN_URL with COUNTERSIGN_API_KEY (an agent key). */
  client?: HookClient;
  /** How long to wait for a reviewer before answering pending. Default COUNTERSIGN_HOOK_WAIT_SECONDS, else 50. */
  waitSeconds?: number;
  /** PreToolUse's answer for a call still pending: `defer` (default) or `deny`. */
  onPending?: PendingAnswer;
}

export interface HookResult {
  stdout: string;
  stderr: string;
  /** 0 with a decision on stdout; 2 (a blocking error for Claude Code) when the input is unusable. */
  exitCode: number;
}

export const DEFAULT_WAIT_SECONDS = 50;
/** How many approvals of one identical PermissionRequest call are looked through in a session. */
const MAX_GENERATIONS = 50;

export async function runClaudeCodeHook(options: ClaudeCodeHookOptions): Promise<HookResult> {
  const env = options.env ?? {};
  const parsed = parseHookInput(options.stdin);
  if (!parsed.ok) return { stdout: "", stderr: `countersign hook claude-code: ${parsed.error}`, exitCode: 2 };
  const input = parsed.input;

  let settings: Settings;
  try {
    settings = readSettings(options, env);
  } catch (error) {
    return { stdout: "", stderr: `countersign hook claude-code: ${message(error)}`, exitCode: 2 };
  }
  const answer = (verdict: Verdict, note = ""): HookResult => ({
    stdout: renderVerdict(input.hook_event_name, verdict, settings.onPending),
    stderr: note,
    exitCode: 0,
  });

  let client: HookClient;
  try {
    client =
      options.client ??
      new CountersignClient({
        baseUrl: env.COUNTERSIGN_URL,
        apiKey: env.COUNTERSIGN_API_KEY,
        timeoutMs: 10_000,
      });
  } catch (error) {
    const reason = `Countersign is not configured (${message(error)}); the call is refused until it is`;
    return answer({ kind: "deny", reason }, reason);
  }

  // The budget bounds the wait for a reviewer; the few seconds on top bound the server's answers.
  const started = performance.now();
  const deadline = started + settings.waitSeconds * 1000;
  const signal = AbortSignal.timeout(settings.waitSeconds * 1000 + 5_000);
  try {
    const verdict = await decide(client, input, {
      deadline,
      signal,
      environment: env.COUNTERSIGN_ENVIRONMENT,
      // A permission dialog cannot be deferred: there an undecided call is refused for now.
      onPending: input.hook_event_name === "PermissionRequest" ? "deny" : settings.onPending,
    });
    return answer(verdict, verdict.kind === "pending" ? `countersign: ${verdict.reason}` : "");
  } catch (error) {
    const reason = failClosedReason(error, env.COUNTERSIGN_URL);
    return answer({ kind: "deny", reason }, `countersign: ${reason}`);
  }
}

interface Settings {
  waitSeconds: number;
  onPending: PendingAnswer;
}

function readSettings(options: ClaudeCodeHookOptions, env: Record<string, string | undefined>): Settings {
  const waitText = env.COUNTERSIGN_HOOK_WAIT_SECONDS;
  const waitSeconds = options.waitSeconds ?? (waitText ? Number(waitText) : DEFAULT_WAIT_SECONDS);
  if (!(Number.isFinite(waitSeconds) && waitSeconds >= 0 && waitSeconds <= 3600)) {
    throw new RangeError("the wait must be between 0 and 3600 seconds");
  }
  const onPending = options.onPending ?? env.COUNTERSIGN_HOOK_ON_PENDING ?? "defer";
  if (onPending !== "defer" && onPending !== "deny") throw new RangeError("on-pending must be defer or deny");
  return { waitSeconds, onPending };
}

interface Budget {
  deadline: number;
  signal: AbortSignal;
  environment: string | undefined;
  onPending: PendingAnswer;
}

async function decide(client: HookClient, input: HookInput, budget: Budget): Promise<Verdict> {
  const base = governBase(input, budget.environment);
  // A deferred call keeps its tool_use_id when the session is resumed, so that id names it.
  if (input.tool_use_id && budget.onPending === "defer") {
    const outcome = await decideCall(client, { ...base, call_id: input.tool_use_id }, budget);
    return outcome.kind === "spent" ? { kind: "deny", reason: outcome.reason } : outcome;
  }

  // A PermissionRequest has no call id, and a call refused while pending comes back under a new
  // one: there an identical call (same tool, same input) in the same session is the same governed
  // call. Its approval is used once; the same call made again later is governed afresh under the
  // next generation of that id.
  const hash = (await argsHash({ tool: input.tool_name, input: input.tool_input })).replace(/^sha256:/, "");
  for (let generation = 1; generation <= MAX_GENERATIONS; generation++) {
    const callId = generation === 1 ? `perm_${hash}` : `perm_${hash}_${generation}`;
    const outcome = await decideCall(client, { ...base, call_id: callId }, budget);
    if (outcome.kind !== "spent") return outcome;
  }
  return { kind: "deny", reason: "this exact call was approved and used too many times in this session" };
}

function governBase(input: HookInput, environment: string | undefined): GovernInput {
  return {
    run_id: input.session_id,
    tool: input.tool_name,
    args: input.tool_input,
    question: `Claude Code wants to use ${input.tool_name}: ${summarise(input)}`,
    context: {
      hook_event_name: input.hook_event_name,
      ...(input.cwd ? { cwd: input.cwd } : {}),
      ...(input.permission_mode ? { permission_mode: input.permission_mode } : {}),
    },
    source: { integration: "claude-code", run_id: input.session_id },
    ...(input.transcript_path ? { metadata: { transcript_path: input.transcript_path } } : {}),
    ...(environment ? { environment } : {}),
  };
}

/**
 * `spent`: the call's approval was used already, or its request ended undecided. For a call with
 * its own id that is final; an identical call asks afresh under the next generation of its id.
 */
type Outcome = Verdict | { kind: "spent"; reason: string };

async function decideCall(client: HookClient, call: GovernInput, budget: Budget): Promise<Outcome> {
  const { signal } = budget;
  let governed = await client.govern(call, { signal });
  if (governed.decision === "allow")
    return { kind: "allow", reason: `Countersign allowed it (${governed.rule_id})` };
  if (governed.decision === "deny") return denied(governed);

  if (governed.request_status === "pending" && governed.request_id) {
    const remaining = Math.max(0, budget.deadline - performance.now());
    try {
      await client.waitForDecision(governed.request_id, {
        timeoutMs: remaining,
        pollSeconds: Math.min(30, Math.max(1, Math.ceil(remaining / 1000))),
        signal,
      });
    } catch (error) {
      if (!(error instanceof ApprovalTimeoutError && error.reason === "wait_timeout")) throw error;
      return pending(governed.request_id, budget.onPending);
    }
    // Asked again: the governed call carries the token, the approved arguments, and a kill switch.
    governed = await client.govern(call, { signal });
    if (governed.decision === "deny") return denied(governed);
  }

  switch (governed.request_status) {
    case "approved":
      return approved(client, call, governed, signal);
    case "rejected":
      return {
        kind: "deny",
        reason: `A reviewer rejected this in Countersign${governed.review_comment ? `: ${governed.review_comment}` : ""}`,
      };
    case "timed_out":
    case "cancelled":
      return {
        kind: "spent",
        reason: `The approval request ${governed.request_id} ${governed.request_status.replace("_", " ")} without a decision`,
      };
    default:
      return pending(governed.request_id, budget.onPending);
  }
}

function pending(requestId: string | null, onPending: PendingAnswer): Verdict {
  const then =
    onPending === "defer"
      ? "resume the session once it is decided"
      : "make the same call again once it is decided";
  return { kind: "pending", reason: `Waiting for a reviewer in Countersign (request ${requestId}); ${then}` };
}

async function approved(
  client: HookClient,
  call: GovernInput,
  governed: GovernResult,
  signal: AbortSignal,
): Promise<Outcome> {
  const approvedArgs = governed.approved_args;
  if (
    governed.approval_token === null ||
    typeof approvedArgs !== "object" ||
    approvedArgs === null ||
    Array.isArray(approvedArgs)
  ) {
    return {
      kind: "deny",
      reason: `the approval of request ${governed.request_id} carries no usable token or input`,
    };
  }
  try {
    // The approval is single-use: consuming it records in the audit log exactly what ran.
    await client.consumeApprovalToken(
      { token: governed.approval_token, tool: call.tool, args: approvedArgs },
      { signal },
    );
  } catch (error) {
    if (error instanceof CountersignError && error.code === "token_already_used") {
      return { kind: "spent", reason: `the approval of request ${governed.request_id} was already used` };
    }
    throw error;
  }
  const edited = (await argsHash(approvedArgs)) !== governed.args_hash;
  const comment = governed.review_comment ? `: ${governed.review_comment}` : "";
  return {
    kind: "allow",
    reason: `Approved in Countersign (request ${governed.request_id})${comment}`,
    ...(edited ? { updatedInput: approvedArgs as Record<string, unknown> } : {}),
  };
}

function denied(governed: GovernResult): Verdict {
  return {
    kind: "deny",
    reason: `Countersign denied this (${governed.stop_reason ?? "policy_denied"}): ${governed.reason}`,
  };
}

function failClosedReason(error: unknown, url: string | undefined): string {
  if (error instanceof CountersignError && error.status === 0) {
    return `Countersign is unreachable at ${url ?? "COUNTERSIGN_URL"} (${error.detail}); the call is refused until it answers`;
  }
  if (error instanceof CountersignError) {
    return `Countersign refused to check the call (${error.status} ${error.code}: ${error.detail}); the call is refused`;
  }
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
    return "Countersign did not answer within the hook's time budget; the call is refused";
  }
  return `checking the call with Countersign failed (${message(error)}); the call is refused`;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
