import { isAlias, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import {
  childPath,
  errorMessage,
  type Locator,
  ProblemSink,
  parentPath,
  type SourcePosition,
} from "./problems.ts";

/** Aliases can multiply a small file into a huge value ("billion laughs"); policies need few. */
const MAX_ALIAS_COUNT = 100;

export interface YamlSource {
  /** The document as plain JavaScript values (YAML 1.2 core schema). */
  value: unknown;
  locate: Locator;
}

/**
 * Parses YAML text and remembers where every value and key sits, so that checks running later on
 * the plain value can report `line:column`. Syntax problems are returned, not thrown.
 */
export function parseYamlSource(text: string): { source: YamlSource } | { problems: ProblemSink } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true });
  const position = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };

  const problems = new ProblemSink();
  // Warnings (an unknown tag, say) are errors here: a policy must mean exactly what it says.
  for (const issue of [...doc.errors, ...doc.warnings]) {
    problems.problems.push({ path: "$", message: issue.message, ...position(issue.pos[0]) });
  }
  if (problems.count > 0) return { problems };

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    problems.problems.push({ path: "$", message: errorMessage(err), line: 1, column: 1 });
    return { problems };
  }

  const values = new Map<string, SourcePosition>();
  const keys = new Map<string, SourcePosition>();
  if (doc.contents) record(doc.contents, "$", values, keys, position);

  const locate: Locator = (path, at) => {
    if (at === "key") {
      const pos = keys.get(path);
      if (pos) return pos;
    }
    for (let p: string | null = path; p !== null; p = parentPath(p)) {
      const pos = values.get(p);
      if (pos) return pos;
    }
    return { line: 1, column: 1 };
  };
  return { source: { value, locate } };
}

function record(
  node: Node,
  path: string,
  values: Map<string, SourcePosition>,
  keys: Map<string, SourcePosition>,
  position: (offset: number) => SourcePosition,
): void {
  if (node.range) values.set(path, position(node.range[0]));
  // An alias's contents live at its anchor; positions below it fall back to the alias itself.
  if (isAlias(node)) return;
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = pair.key;
      if (!isScalar(key)) continue;
      const child = childPath(path, String(key.value));
      if (key.range) {
        keys.set(child, position(key.range[0]));
        // A key with no value (`tool:`) still has a place to point at.
        values.set(child, position(key.range[0]));
      }
      if (pair.value && typeof pair.value === "object" && "range" in pair.value) {
        record(pair.value as Node, child, values, keys, position);
      }
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      if (item && typeof item === "object" && "range" in item) {
        record(item as Node, childPath(path, i), values, keys, position);
      }
    });
  }
}
