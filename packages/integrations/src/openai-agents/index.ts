/*
 * @countersign/integrations/openai-agents: Countersign for the OpenAI Agents SDK (`@openai/agents`,
 * an optional peer dependency). See docs/integrations/openai-agents.md.
 */

export { type GovernedToolOptions, governedTool } from "./governed-tool.ts";
export { type GovernedApprovalFunction, governNeedsApproval } from "./needs-approval.ts";
export type { GovernanceOptions, RunIdOption } from "./options.ts";
export {
  type Interrupted,
  type InterruptionOutcome,
  type InterruptionStatus,
  type ResolveInterruptionsOptions,
  type ResolveInterruptionsResult,
  resolveInterruptions,
} from "./resolve-interruptions.ts";
export {
  deleteRunState,
  FileRunStateStore,
  type LoadedRun,
  loadRunState,
  MemoryRunStateStore,
  type RunStateStore,
  saveRunState,
} from "./run-state-store.ts";
