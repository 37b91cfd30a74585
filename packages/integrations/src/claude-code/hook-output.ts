import type { HookEvent } from "./hook-input.ts";

/*
 * What the hook answers, in the JSON Claude Code documents for each event:
 *
 * - PreToolUse: `hookSpecificOutput.permissionDecision` `allow` | `deny` | `defer`, with
 *   `permissionDecisionReason` (shown to Claude for deny) and, for edited arguments,
 *   `updatedInput` (replaces the whole tool input). `defer` (honoured by `claude -p`) ends the
 *   process with the call pending; `claude -p --resume <session>` runs the hook again for it.
 * - PermissionRequest: `hookSpecificOutput.decision.behavior` `allow` | `deny`, with `updatedInput`
 *   (allow) or `message` (deny).
 */

export type Verdict =
  | { kind: "allow"; reason: string; updatedInput?: Record<string, unknown> }
  | { kind: "deny"; reason: string }
  /** No decision within the hook's time budget: the request stays pending. */
  | { kind: "pending"; reason: string };

export type PendingAnswer = "defer" | "deny";

export function renderVerdict(event: HookEvent, verdict: Verdict, onPending: PendingAnswer): string {
  if (event === "PermissionRequest") {
    // A permission dialog cannot be deferred: an undecided call is refused until it is approved.
    const decision =
      verdict.kind === "allow"
        ? { behavior: "allow", ...(verdict.updatedInput ? { updatedInput: verdict.updatedInput } : {}) }
        : { behavior: "deny", message: verdict.reason };
    return JSON.stringify({ hookSpecificOutput: { hookEventName: event, decision } });
  }
  const permissionDecision = verdict.kind === "pending" ? onPending : verdict.kind;
  return JSON.stringify({
    hookSpecificOutput: {
      hookEventName: event,
      permissionDecision,
      permissionDecisionReason: verdict.reason,
      ...(verdict.kind === "allow" && verdict.updatedInput ? { updatedInput: verdict.updatedInput } : {}),
    },
  });
}
