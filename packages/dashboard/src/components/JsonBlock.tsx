import { useState } from "react";
import { pretty } from "../lib/json.ts";
import { hasHiddenCharacters } from "../lib/safe-text.ts";
import { SafeText } from "./SafeText.tsx";

const PREVIEW_LINES = 40;
const PREVIEW_CHARS = 4000;

/**
 * A value for reading: strings as plain text, everything else as pretty JSON. Never as HTML. Long
 * values show their start and a button for the rest, so the page stays quick to scan.
 */
export function JsonBlock({ value }: { value: unknown; label?: string }) {
  const [all, setAll] = useState(false);
  const text = typeof value === "string" ? value : pretty(value);
  const lines = text.split("\n");
  const long = lines.length > PREVIEW_LINES || text.length > PREVIEW_CHARS;
  const shown = long && !all ? lines.slice(0, PREVIEW_LINES).join("\n").slice(0, PREVIEW_CHARS) : text;
  return (
    <>
      {hasHiddenCharacters(text) && (
        <p className="warning" role="note">
          This contains invisible or direction-changing characters, shown as U+ codes.
        </p>
      )}
      <pre className={typeof value === "string" ? "block text" : "block code"}>
        <SafeText text={shown} />
        {long && !all && <span className="muted">{"\n"}…</span>}
      </pre>
      {long && (
        <button type="button" className="small" onClick={() => setAll((a) => !a)}>
          {all ? "Show less" : `Show all ${lines.length} lines (${text.length.toLocaleString()} characters)`}
        </button>
      )}
    </>
  );
}
