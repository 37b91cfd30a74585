/**
 * Characters that change how text looks without being seen: bidirectional overrides and isolates
 * (which can make `exe.txt` read as `txt.exe`), zero-width characters and other invisible format
 * controls. Reviewers must see exactly what they approve, so these are shown as visible markers.
 */
const HIDDEN = /[\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF\u00AD]/g;

export interface SafeSegment {
  text: string;
  hidden: boolean;
  /** Where the segment starts in the original text (a stable key). */
  start: number;
}

export function hasHiddenCharacters(text: string): boolean {
  HIDDEN.lastIndex = 0;
  return HIDDEN.test(text);
}

/** Splits text into plain runs and hidden characters (each rendered as `U+XXXX`). */
export function segments(text: string): SafeSegment[] {
  const out: SafeSegment[] = [];
  let last = 0;
  HIDDEN.lastIndex = 0;
  for (let m = HIDDEN.exec(text); m; m = HIDDEN.exec(text)) {
    if (m.index > last) out.push({ text: text.slice(last, m.index), hidden: false, start: last });
    const code = m[0].codePointAt(0) ?? 0;
    out.push({ text: `U+${code.toString(16).toUpperCase().padStart(4, "0")}`, hidden: true, start: m.index });
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push({ text: text.slice(last), hidden: false, start: last });
  return out;
}
