import { useId } from "react";
import { type Change, diffJson } from "../lib/diff.ts";
import { type ParseResult, parseJson, pretty } from "../lib/json.ts";
import { SafeText } from "./SafeText.tsx";

export interface ArgsDraft {
  text: string;
  parsed: ParseResult;
  changes: Change[];
}

export function draftFrom(proposed: unknown, text: string): ArgsDraft {
  const parsed = parseJson(text);
  return { text, parsed, changes: parsed.ok ? diffJson(proposed, parsed.value) : [] };
}

export function initialDraft(proposed: unknown): ArgsDraft {
  return draftFrom(proposed, pretty(proposed));
}

function show(value: unknown): string {
  return value === undefined ? "" : JSON.stringify(value);
}

/** What an edit changes, path by path: what was proposed and what will be approved instead. */
export function ArgsDiff({ changes }: { changes: Change[] }) {
  if (changes.length === 0) return <p className="muted">No changes: these are the proposed arguments.</p>;
  return (
    <table className="diff">
      <caption>
        {changes.length} change{changes.length === 1 ? "" : "s"} from the proposed arguments
      </caption>
      <thead>
        <tr>
          <th scope="col">Field</th>
          <th scope="col">Proposed</th>
          <th scope="col">Approved instead</th>
        </tr>
      </thead>
      <tbody>
        {changes.map((c) => (
          <tr key={c.path} className={`diff-${c.kind}`}>
            <th scope="row">
              <code>{c.path || "(whole value)"}</code>
            </th>
            <td className="diff-before">
              {c.kind === "added" ? <em>not set</em> : <SafeText text={show(c.before)} />}
            </td>
            <td className="diff-after">
              {c.kind === "removed" ? <em>removed</em> : <SafeText text={show(c.after)} />}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A JSON editor for the arguments: validated as you type, with the diff against the proposal. */
export function ArgsEditor({
  proposed,
  draft,
  onChange,
  disabled,
}: {
  proposed: unknown;
  draft: ArgsDraft;
  onChange: (d: ArgsDraft) => void;
  disabled: boolean;
}) {
  const id = useId();
  const invalid = !draft.parsed.ok;
  return (
    <div className="args-editor">
      <label htmlFor={`${id}-args`}>Arguments (JSON)</label>
      <textarea
        id={`${id}-args`}
        className="code-input"
        spellCheck={false}
        autoCapitalize="off"
        autoComplete="off"
        rows={Math.min(18, Math.max(6, draft.text.split("\n").length + 1))}
        value={draft.text}
        disabled={disabled}
        aria-invalid={invalid}
        aria-describedby={`${id}-status`}
        onChange={(e) => onChange(draftFrom(proposed, e.target.value))}
      />
      <p id={`${id}-status`} className={invalid ? "error" : "ok"} aria-live="polite">
        {draft.parsed.ok
          ? "Valid JSON."
          : `Not valid JSON at line ${draft.parsed.line}, column ${draft.parsed.column}: ${draft.parsed.message}`}
      </p>
      <button type="button" onClick={() => onChange(initialDraft(proposed))} disabled={disabled}>
        Reset to the proposed arguments
      </button>
      {draft.parsed.ok && <ArgsDiff changes={draft.changes} />}
    </div>
  );
}
