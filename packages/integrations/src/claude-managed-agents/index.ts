/*
 * @countersign/integrations/claude-managed-agents: a bridge that routes a Claude Managed Agents
 * session's tool confirmations and custom tools through Countersign (`@anthropic-ai/sdk`, an
 * optional peer dependency). See docs/integrations/claude-managed-agents.md.
 */

export {
  type BlockingOutcome,
  ManagedAgentsBridge,
  type ManagedAgentsBridgeOptions,
  type WatchOptions,
} from "./bridge.ts";
export { ACTIONS as DELIVERY_ACTIONS, type DeliveryResult } from "./delivery.ts";
export { TOOL_RESULT_RECORDED } from "./responder.ts";
export type {
  BlockingEvent,
  BridgeCountersign,
  CustomToolHandler,
  DeliveryOptions,
  ReplyEvent,
  RequestExtras,
  SessionsClient,
  ToolResultContent,
} from "./types.ts";
