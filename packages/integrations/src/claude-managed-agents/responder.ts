import type { BetaManagedAgentsAgentCustomToolUseEvent } from "@anthropic-ai/sdk/resources/beta/sessions/events";
import type { ApprovalRequest, CreateRequestInput } from "@countersign/sdk";
import { countersignToolName } from "../shared/tool-name.ts";
import {
  type BlockingEvent,
  type BridgeCountersign,
  type CustomToolHandler,
  INTEGRATION,
  type ReplyEvent,
  type RequestExtras,
  type ToolResultContent,
} from "./types.ts";

/*
 * One blocking event, from request to answer: the approval request it becomes, and the response
 * event its decision turns into. Tool confirmations (`agent.tool_use`, `agent.mcp_tool_use`) are
 * answered with `user.tool_confirmation`; a custom tool (`agent.custom_tool_use`) is run only once
 * approved, and answered with its `user.custom_tool_result` (an error result when not approved).
 */

export const TOOL_RESULT_RECORDED = "claude_managed_agents.custom_tool_result_recorded";

export function requestFor(
  sessionId: string,
  event: BlockingEvent,
  extras: RequestExtras,
): CreateRequestInput {
  return {
    ...extras,
    type: "approval",
    question: questionFor(event),
    tool: { name: toolName(event), args: event.input },
    external_request_id: `claude:${sessionId}:${event.id}`,
    correlation_id: sessionId,
    source: { integration: INTEGRATION, run_id: sessionId },
    metadata: {
      ...extras.metadata,
      integration: INTEGRATION,
      session_id: sessionId,
      blocking_event_id: event.id,
      blocking_event_type: event.type,
      tool_name: event.name,
      ...(event.type === "agent.mcp_tool_use" ? { mcp_server_name: event.mcp_server_name } : {}),
    },
  };
}

function questionFor(event: BlockingEvent): string {
  switch (event.type) {
    case "agent.tool_use":
      return `Allow the Claude agent to use ${event.name}?`;
    case "agent.mcp_tool_use":
      return `Allow the Claude agent to use ${event.name} from MCP server ${event.mcp_server_name}?`;
    case "agent.custom_tool_use":
      return `Allow the Claude agent to run the custom tool ${event.name}?`;
  }
}

/** MCP tools are named `mcp__server__tool`, as Claude Code names them. */
function toolName(event: BlockingEvent): string {
  return countersignToolName(
    event.type === "agent.mcp_tool_use" ? `mcp__${event.mcp_server_name}__${event.name}` : event.name,
  );
}

/** Why a decided request does not let the call run, in words for the agent; null when it does. */
function refusal(request: ApprovalRequest): string | null {
  switch (request.status) {
    case "approved":
      return null;
    case "rejected":
      return request.response?.comment?.trim() || "A reviewer rejected this in Countersign.";
    case "timed_out":
      return `No reviewer decided in time (request ${request.id} timed out), so it was not approved. Nobody rejected it.`;
    case "cancelled":
      return `The approval request ${request.id} was cancelled${request.cancellation?.reason ? `: ${request.cancellation.reason}` : ""}.`;
    default:
      return `The approval request ${request.id} ended ${request.status}; it was not approved.`;
  }
}

export interface ReplyContext {
  sessionId: string;
  countersign: BridgeCountersign;
  customTools: Record<string, CustomToolHandler>;
}

export async function replyFor(
  event: BlockingEvent,
  request: ApprovalRequest,
  ctx: ReplyContext,
): Promise<ReplyEvent> {
  const refused = refusal(request);
  const edits = request.response?.modified_args;
  const edited = edits !== null && edits !== undefined;

  if (event.type !== "agent.custom_tool_use") {
    if (refused)
      return { type: "user.tool_confirmation", tool_use_id: event.id, result: "deny", deny_message: refused };
    // A confirmation can only allow the call as proposed, so an edit cannot be applied: refuse it,
    // telling the agent what was approved instead.
    if (edited) {
      return {
        type: "user.tool_confirmation",
        tool_use_id: event.id,
        result: "deny",
        deny_message: `A reviewer approved this only with different input: ${JSON.stringify(edits)}. Call the tool again with exactly that input.`,
      };
    }
    return { type: "user.tool_confirmation", tool_use_id: event.id, result: "allow" };
  }

  if (refused) return errorResult(event.id, refused);
  return (
    (await recordedResult(event, ctx)) ?? runCustomTool(event, request, edited ? edits : event.input, ctx)
  );
}

/**
 * Runs the approved custom tool and records its result in the case before it is sent, so a bridge
 * that restarts before the send completes sends the recorded result instead of running the tool
 * a second time.
 */
async function runCustomTool(
  event: BetaManagedAgentsAgentCustomToolUseEvent,
  request: ApprovalRequest,
  input: unknown,
  ctx: ReplyContext,
): Promise<ReplyEvent> {
  const handler = ctx.customTools[event.name];
  if (!handler) return errorResult(event.id, `No handler for the custom tool ${event.name} is registered.`);
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return errorResult(event.id, "The approved input is not a JSON object; the tool did not run.");
  }
  let reply: ReplyEvent;
  try {
    const output = await handler(input as Record<string, unknown>, {
      sessionId: ctx.sessionId,
      event,
      requestId: request.id,
    });
    reply = { type: "user.custom_tool_result", custom_tool_use_id: event.id, content: asContent(output) };
  } catch (error) {
    reply = errorResult(
      event.id,
      `The tool failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  await ctx.countersign.logAction({
    action: TOOL_RESULT_RECORDED,
    summary: `Ran the custom tool ${event.name} for ${event.id} after approval`,
    source: { integration: INTEGRATION, run_id: ctx.sessionId, workflow_id: event.type },
    outcome: reply.type === "user.custom_tool_result" && reply.is_error ? "failure" : "success",
    correlation_id: ctx.sessionId,
    in_reply_to: { type: "request", id: request.id },
    metadata: { session_id: ctx.sessionId, event_id: event.id, response: reply },
  });
  return reply;
}

async function recordedResult(event: BlockingEvent, ctx: ReplyContext): Promise<ReplyEvent | undefined> {
  const timeline = await ctx.countersign.getCase(ctx.sessionId);
  const recorded = timeline.actions.find(
    (a) => a.action === TOOL_RESULT_RECORDED && a.metadata?.event_id === event.id,
  );
  return recorded?.metadata?.response as ReplyEvent | undefined;
}

function errorResult(eventId: string, text: string): ReplyEvent {
  return {
    type: "user.custom_tool_result",
    custom_tool_use_id: eventId,
    is_error: true,
    content: [{ type: "text", text }],
  };
}

function asContent(output: string | ToolResultContent): ToolResultContent {
  return typeof output === "string" ? [{ type: "text", text: output }] : output;
}
