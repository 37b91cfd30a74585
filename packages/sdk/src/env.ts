/*
 * Reading COUNTERSIGN_URL / COUNTERSIGN_API_KEY without assuming Node: browsers have no `process`,
 * and Deno throws when the environment is read without --allow-env. Either way the answer is
 * "not set", and the caller must pass the value explicitly.
 */

interface ProcessLike {
  env?: Record<string, string | undefined>;
}

/** The variable's value, or undefined when unset, empty, or unreadable in this runtime. */
export function readEnv(name: string): string | undefined {
  try {
    const proc = (globalThis as { process?: ProcessLike }).process;
    const value = proc?.env?.[name];
    return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
  } catch {
    return undefined;
  }
}
