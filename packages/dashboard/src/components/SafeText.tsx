import { Fragment } from "react";
import { segments } from "../lib/safe-text.ts";

/**
 * Text exactly as sent, always as text (React escapes it; nothing is ever parsed as HTML), with
 * invisible and direction-changing characters shown as visible `U+XXXX` markers.
 */
export function SafeText({ text }: { text: string }) {
  const parts = segments(text);
  if (parts.length === 1 && !parts[0]?.hidden) return <>{text}</>;
  return (
    <>
      {parts.map((part) =>
        part.hidden ? (
          <mark key={part.start} className="hidden-char" title="an invisible or direction-changing character">
            {part.text}
          </mark>
        ) : (
          <Fragment key={part.start}>{part.text}</Fragment>
        ),
      )}
    </>
  );
}
