import type Anthropic from "@anthropic-ai/sdk";
import type {
  BetaManagedAgentsAgentCustomToolUseEvent,
  BetaManagedAgentsAgentMCPToolUseEvent,
  BetaManagedAgentsAgentToolUseEvent,
  BetaManagedAgentsDocumentBlock,
  BetaManagedAgentsImageBlock,
  BetaManagedAgentsSearchResultBlock,
  BetaManagedAgentsTextBlock,
  BetaManagedAgentsUserCustomToolResultEventParams,
  BetaManagedAgentsUserToolConfirmationEventParams,
} from "@anthropic-ai/sdk/resources/beta/sessions/events";
import type { CountersignClient, CreateRequestInput } from "@countersign/sdk";

/** The part of an `Anthropic` client the bridge uses: a session's events (stream, list, send). */
export interface SessionsClient {
  beta: { sessions: { events: Pick<Anthropic["beta"]["sessions"]["events"], "stream" | "list" | "send"> } };
}

/** The Countersign calls the bridge makes, with an agent key. */
export type BridgeCountersign = Pick<
  CountersignClient,
  "createRequest" | "waitForDecision" | "logAction" | "getCase"
>;

/** The events a session can block on that a human decides: tool confirmations and custom tools. */
export type BlockingEvent =
  | BetaManagedAgentsAgentToolUseEvent
  | BetaManagedAgentsAgentMCPToolUseEvent
  | BetaManagedAgentsAgentCustomToolUseEvent;

export type ReplyEvent =
  | BetaManagedAgentsUserToolConfirmationEventParams
  | BetaManagedAgentsUserCustomToolResultEventParams;

export type ToolResultContent = Array<
  | BetaManagedAgentsTextBlock
  | BetaManagedAgentsImageBlock
  | BetaManagedAgentsDocumentBlock
  | BetaManagedAgentsSearchResultBlock
>;

/** Runs an approved custom tool: text, or content blocks. Throwing reports the error to the agent. */
export type CustomToolHandler = (
  input: Record<string, unknown>,
  call: { sessionId: string; event: BetaManagedAgentsAgentCustomToolUseEvent; requestId: string },
) => string | ToolResultContent | Promise<string | ToolResultContent>;

/** Request fields Countersign cannot infer from the event: who decides, how soon, how urgent. */
export type RequestExtras = Pick<
  CreateRequestInput,
  | "required_role"
  | "required_roles"
  | "required_approvals"
  | "priority"
  | "ttl_seconds"
  | "callback_url"
  | "context"
> & { metadata?: Record<string, unknown> };

export interface DeliveryOptions {
  /** Attempts in total to send a response to the session before dead-lettering it. Default 6. */
  attempts?: number;
  /** First backoff between attempts, doubled each time up to `maxDelayMs`, with jitter. Default 250 ms. */
  baseDelayMs?: number;
  /** Default 10 000 ms. */
  maxDelayMs?: number;
}

export const INTEGRATION = "claude-managed-agents";

export function isBlockingEvent(event: { type: string }): event is BlockingEvent {
  return (
    event.type === "agent.tool_use" ||
    event.type === "agent.mcp_tool_use" ||
    event.type === "agent.custom_tool_use"
  );
}
