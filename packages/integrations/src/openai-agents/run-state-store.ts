import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { RunState } from "@openai/agents";
import type { AnyAgent } from "./options.ts";
import { governedCall, rememberGovernedCall } from "./registry.ts";
import { argumentsOf, type ResolveInterruptionsResult } from "./resolve-interruptions.ts";

/*
 * Parking a run while reviewers decide: the run state (`state.toString()`) is saved under the id
 * of every request it waits on, so whichever decision arrives first (a webhook, a poll, a person
 * pressing "resume") can find the run by that request id, even in another process or after a
 * restart, and continue it with `loadRunState` → `resolveInterruptions` → `run`.
 */

/** Where parked runs are kept: any key-value store (a database table, Redis, files). */
export interface RunStateStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
}

interface ParkedRun {
  version: 1;
  run_id: string;
  request_ids: string[];
  /** The arguments each governed call was governed with, so it can be asked about again exactly. */
  calls: Record<string, { tool: string; args: unknown }>;
  state: string;
}

/**
 * Saves a run that waits on reviewers under each of its pending request ids (from
 * `resolveInterruptions(result, { wait: false })`). Returns those ids.
 */
export async function saveRunState<TContext, TAgent extends AnyAgent>(
  store: RunStateStore,
  resolved: ResolveInterruptionsResult<RunState<TContext, TAgent>>,
): Promise<string[]> {
  const requestIds = [...new Set(resolved.pending.map((p) => p.requestId).filter((id) => id !== null))];
  if (requestIds.length === 0) return [];
  const { runId } = resolved;
  const calls: ParkedRun["calls"] = {};
  for (const outcome of resolved.outcomes) {
    if (!outcome.governed) continue;
    const known = governedCall(runId, outcome.callId);
    calls[outcome.callId] = known ?? { tool: outcome.tool, args: argumentsOf(outcome.interruption) };
  }
  const record: ParkedRun = {
    version: 1,
    run_id: runId,
    request_ids: requestIds,
    calls,
    state: resolved.state.toString(),
  };
  const text = JSON.stringify(record);
  await Promise.all(requestIds.map((id) => store.set(id, text)));
  return requestIds;
}

export interface LoadedRun<TAgent extends AnyAgent> {
  state: RunState<unknown, TAgent>;
  runId: string;
  /** Every request the run was parked on; pass them to `deleteRunState` once it has resumed. */
  requestIds: string[];
}

/**
 * The run parked on `requestId`, restored against `agent` (the same agent definition, with the
 * same tools, as when it was saved), or undefined if no run waits on that request.
 */
export async function loadRunState<TAgent extends AnyAgent>(
  store: RunStateStore,
  agent: TAgent,
  requestId: string,
): Promise<LoadedRun<TAgent> | undefined> {
  const text = await store.get(requestId);
  if (text === undefined) return undefined;
  const record = JSON.parse(text) as ParkedRun;
  if (record.version !== 1) throw new Error(`unknown parked run format ${String(record.version)}`);
  for (const [callId, call] of Object.entries(record.calls))
    rememberGovernedCall(record.run_id, callId, call);
  const state = await RunState.fromString<unknown, TAgent>(agent, record.state);
  return { state, runId: record.run_id, requestIds: record.request_ids };
}

/** Forgets a parked run (all its request ids), once it has been resumed. */
export async function deleteRunState(store: RunStateStore, requestIds: readonly string[]): Promise<void> {
  await Promise.all(requestIds.map((id) => store.delete(id)));
}

/** Keeps parked runs in memory: for tests, and for processes that never restart. */
export class MemoryRunStateStore implements RunStateStore {
  private readonly values = new Map<string, string>();
  async get(key: string): Promise<string | undefined> {
    return this.values.get(key);
  }
  async set(key: string, value: string): Promise<void> {
    this.values.set(key, value);
  }
  async delete(key: string): Promise<void> {
    this.values.delete(key);
  }
}

/** Keeps parked runs as files in a directory, one per request id; survives restarts. */
export class FileRunStateStore implements RunStateStore {
  private readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }
  async get(key: string): Promise<string | undefined> {
    try {
      return await readFile(this.path(key), "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }
  async set(key: string, value: string): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    // Written aside and renamed into place, so a crash never leaves half a run behind.
    const temp = `${this.path(key)}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(temp, value, "utf8");
    await rename(temp, this.path(key));
  }
  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }
  private path(key: string): string {
    return join(this.dir, `${encodeURIComponent(key)}.json`);
  }
}
