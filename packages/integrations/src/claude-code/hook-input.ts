/*
 * The JSON Claude Code writes to a command hook's stdin, for the two events Countersign answers.
 * Only the fields used are checked; Claude Code adds fields over time and they are ignored.
 */

export type HookEvent = "PreToolUse" | "PermissionRequest";

export interface HookInput {
  hook_event_name: HookEvent;
  session_id: string;
  tool_name: string;
  tool_input: Record<string, unknown>;
  /** PreToolUse only: the id of this tool call. PermissionRequest carries none. */
  tool_use_id?: string;
  cwd?: string;
  permission_mode?: string;
  transcript_path?: string;
}

export type ParsedInput = { ok: true; input: HookInput } | { ok: false; error: string };

const EVENTS: readonly string[] = ["PreToolUse", "PermissionRequest"];

export function parseHookInput(text: string): ParsedInput {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: "stdin is not JSON; Claude Code pipes the hook's JSON input to it" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, error: "the hook input must be a JSON object" };
  }
  const v = value as Record<string, unknown>;
  if (typeof v.hook_event_name !== "string" || !EVENTS.includes(v.hook_event_name)) {
    return {
      ok: false,
      error: `hook_event_name ${JSON.stringify(v.hook_event_name)} is not handled: register this command for PreToolUse or PermissionRequest`,
    };
  }
  for (const field of ["session_id", "tool_name"] as const) {
    if (typeof v[field] !== "string" || v[field] === "")
      return { ok: false, error: `${field} must be a non-empty string` };
  }
  const toolInput = v.tool_input ?? {};
  if (typeof toolInput !== "object" || toolInput === null || Array.isArray(toolInput)) {
    return { ok: false, error: "tool_input must be a JSON object" };
  }
  const input: HookInput = {
    hook_event_name: v.hook_event_name as HookEvent,
    session_id: v.session_id as string,
    tool_name: v.tool_name as string,
    tool_input: toolInput as Record<string, unknown>,
  };
  for (const field of ["tool_use_id", "cwd", "permission_mode", "transcript_path"] as const) {
    const fieldValue = v[field];
    if (typeof fieldValue === "string" && fieldValue !== "") input[field] = fieldValue;
  }
  return { ok: true, input };
}

/** A one-line summary of the call for the reviewer's question: the command, path or URL it acts on. */
export function summarise(input: HookInput): string {
  const t = input.tool_input;
  const pick = t.command ?? t.file_path ?? t.notebook_path ?? t.url ?? t.pattern ?? t.query;
  const text = typeof pick === "string" ? pick : JSON.stringify(t);
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}
