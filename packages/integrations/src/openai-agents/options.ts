import type { CountersignClient, GovernExtras, GovernInput } from "@countersign/sdk";
import type { Agent } from "@openai/agents";

/*
 * What every piece of the OpenAI Agents integration is configured with, and how a governed call of
 * a run is named: the run id comes from the run's context (so it survives `RunState.toString()`),
 * the call id is the model's tool-call id.
 */

/** The run id, or how to read it from the context passed to `run(agent, input, { context })`. */
export type RunIdOption = string | ((context: unknown) => string);

export interface GovernanceOptions {
  /** A client with an agent key. */
  client: Pick<CountersignClient, "govern">;
  /**
   * The run id governed calls belong to: budgets, kill switches and the case timeline are per
   * run. Default: `context.runId` of the run's context object, which is serialised with the
   * run state, so a resumed run keeps it.
   */
  runId?: RunIdOption;
  /** Sent with every governed call (`agent_id`, `environment`, `metadata`, `context`, …). */
  govern?: GovernExtras;
}

/** The integration name Countersign records on requests and governed calls. */
export const INTEGRATION = "openai-agents";

export function resolveRunId(option: RunIdOption | undefined, context: unknown): string {
  const runId = typeof option === "function" ? option(context) : (option ?? readContextRunId(context));
  if (typeof runId !== "string" || runId === "") {
    throw new TypeError(
      "Countersign needs a run id: pass `context: { runId }` to run(agent, input, { context }), " +
        "or a `runId` option that reads it from your context",
    );
  }
  return runId;
}

function readContextRunId(context: unknown): unknown {
  if (typeof context !== "object" || context === null) return undefined;
  return (context as { runId?: unknown }).runId;
}

/** The body of `POST /v1/govern` for one tool call of a run. */
export function governInput(
  extras: GovernExtras | undefined,
  call: { runId: string; callId: string; tool: string; args: unknown },
): GovernInput {
  return {
    source: { integration: INTEGRATION, run_id: call.runId },
    ...extras,
    run_id: call.runId,
    call_id: call.callId,
    tool: call.tool,
    args: call.args,
  };
}

/** Any agent, as the SDK itself bounds its generic functions (`Agent<any, any>`). */
// biome-ignore lint/suspicious/noExplicitAny: the SDK's own bound for "any agent"; nothing narrower satisfies it
export type AnyAgent = Agent<any, any>;
