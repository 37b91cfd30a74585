/** A structural diff of two JSON values, for showing what an edit changes before it is approved. */
export interface Change {
  /** JSON pointer of the changed value ("" for the whole value). */
  path: string;
  kind: "added" | "removed" | "changed";
  before?: unknown;
  after?: unknown;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function pointer(path: string, key: string | number): string {
  return `${path}/${String(key).replace(/~/g, "~0").replace(/\//g, "~1")}`;
}

export function diffJson(before: unknown, after: unknown, path = ""): Change[] {
  if (isObject(before) && isObject(after)) {
    const changes: Change[] = [];
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    for (const key of keys) {
      const p = pointer(path, key);
      if (!(key in after)) changes.push({ path: p, kind: "removed", before: before[key] });
      else if (!(key in before)) changes.push({ path: p, kind: "added", after: after[key] });
      else changes.push(...diffJson(before[key], after[key], p));
    }
    return changes;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const changes: Change[] = [];
    const n = Math.max(before.length, after.length);
    for (let i = 0; i < n; i++) {
      const p = pointer(path, i);
      if (i >= after.length) changes.push({ path: p, kind: "removed", before: before[i] });
      else if (i >= before.length) changes.push({ path: p, kind: "added", after: after[i] });
      else changes.push(...diffJson(before[i], after[i], p));
    }
    return changes;
  }
  if (Object.is(before, after)) return [];
  return [{ path, kind: "changed", before, after }];
}
