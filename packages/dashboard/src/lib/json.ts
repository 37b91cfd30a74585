/** JSON for people: pretty printing, and parse errors that say where (line and column). */
export function pretty(value: unknown): string {
  if (value === undefined) return "";
  return JSON.stringify(value, null, 2) ?? String(value);
}

export type ParseResult =
  | { ok: true; value: unknown }
  | { ok: false; message: string; line: number; column: number };

function position(text: string, message: string): { line: number; column: number } {
  const lineCol = /line (\d+) column (\d+)/.exec(message);
  if (lineCol) return { line: Number(lineCol[1]), column: Number(lineCol[2]) };
  const at = /position (\d+)/.exec(message);
  const offset = at ? Math.min(Number(at[1]), text.length) : text.length;
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, column: (before[before.length - 1]?.length ?? 0) + 1 };
}

export function parseJson(text: string): ParseResult {
  if (text.trim() === "") return { ok: false, message: "the arguments cannot be empty", line: 1, column: 1 };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const { line, column } = position(text, message);
    return { ok: false, message: message.replace(/^JSON\.parse: /, ""), line, column };
  }
}

/** The start of a hash, enough to tell versions apart at a glance (`sha256:` prefixes dropped). */
export function shortHash(hash: string, length = 12): string {
  return hash.replace(/^sha256:/, "").slice(0, length);
}
