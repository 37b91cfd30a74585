import type { PolicyInput } from "./types.ts";

/**
 * Fields a condition can read: `tool`, `agent_id`, `environment`, `args`, `context`, and paths
 * below the last two: `args.amount`, `args.items[0].sku`, `context["x.y"]`. A dotted segment is
 * `[A-Za-z0-9_-]+`; any other key goes in brackets and quotes. `[n]` indexes arrays only, a named
 * segment reads an object's own property only (so `args.items.length` or `args.constructor`
 * never resolve). Whatever does not resolve is "missing": `undefined`.
 */

export const FIELD_ROOTS = ["tool", "agent_id", "environment", "args", "context"] as const;
export type FieldRoot = (typeof FIELD_ROOTS)[number];

const MAX_SEGMENTS = 32;

export interface FieldPath {
  root: FieldRoot;
  segments: Array<string | number>;
}

export function parseFieldPath(text: string): FieldPath | { problem: string } {
  const rootMatch = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text);
  const root = rootMatch?.[0] as FieldRoot | undefined;
  if (root === undefined || !FIELD_ROOTS.includes(root)) {
    return {
      problem: `unknown field ${JSON.stringify(text)} (a field starts with ${FIELD_ROOTS.join(", ")})`,
    };
  }
  const segments: Array<string | number> = [];
  let i = root.length;
  while (i < text.length) {
    const rest = text.slice(i);
    const named = /^\.([A-Za-z0-9_-]+)/.exec(rest);
    const index = /^\[(\d{1,9})\]/.exec(rest);
    const quoted = /^\[("(?:[^"\\]|\\.)*"|'(?:[^']|'')*')\]/.exec(rest);
    if (named?.[1] !== undefined) {
      segments.push(named[1]);
      i += named[0].length;
    } else if (index?.[1] !== undefined) {
      segments.push(Number(index[1]));
      i += index[0].length;
    } else if (quoted?.[1] !== undefined) {
      const q = quoted[1];
      segments.push(q.startsWith('"') ? (JSON.parse(q) as string) : q.slice(1, -1).replaceAll("''", "'"));
      i += quoted[0].length;
    } else {
      return { problem: `cannot read field path ${JSON.stringify(text)} at character ${i + 1}` };
    }
  }
  if (segments.length > 0 && root !== "args" && root !== "context") {
    return { problem: `${root} has no sub-fields` };
  }
  if (segments.length > MAX_SEGMENTS) return { problem: `a field path has at most ${MAX_SEGMENTS} segments` };
  return { root, segments };
}

export type Getter = (input: PolicyInput) => unknown;

function rootGetter(root: FieldRoot): Getter {
  switch (root) {
    case "tool":
      return (input) => input.tool;
    // An absent identity or environment arrives as null; to a condition it is simply missing.
    case "agent_id":
      return (input) => input.agent_id ?? undefined;
    case "environment":
      return (input) => input.environment ?? undefined;
    case "args":
      return (input) => input.args;
    case "context":
      return (input) => input.context;
  }
}

function step(value: unknown, segment: string | number): unknown {
  if (value === null || typeof value !== "object") return undefined;
  if (typeof segment === "number") {
    return Array.isArray(value) && segment < value.length ? value[segment] : undefined;
  }
  if (Array.isArray(value) || !Object.hasOwn(value, segment)) return undefined;
  return (value as Record<string, unknown>)[segment];
}

/** Precompiles a path into a closure; the one- and two-segment cases avoid the loop entirely. */
export function compileGetter(path: FieldPath): Getter {
  const get = rootGetter(path.root);
  const segs = path.segments;
  const [a, b] = segs;
  if (a === undefined) return get;
  if (segs.length === 1) return (input) => step(get(input), a);
  if (segs.length === 2 && b !== undefined) return (input) => step(step(get(input), a), b);
  return (input) => {
    let value = get(input);
    for (let i = 0; i < segs.length && value !== undefined; i++)
      value = step(value, segs[i] as string | number);
    return value;
  };
}
