/*
 * @countersign/integrations/claude-code: the `countersign hook claude-code` command for Claude
 * Code's PreToolUse and PermissionRequest hooks. See docs/integrations/claude-code.md.
 */

export { type CommandOutput, hookCommand } from "./command.ts";
export {
  type ClaudeCodeHookOptions,
  DEFAULT_WAIT_SECONDS,
  type HookClient,
  type HookResult,
  runClaudeCodeHook,
} from "./hook.ts";
export type { HookEvent, HookInput } from "./hook-input.ts";
export type { PendingAnswer, Verdict } from "./hook-output.ts";
