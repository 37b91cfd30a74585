import type { GovernResult } from "@countersign/sdk";

/*
 * What this process remembers about governed calls, so the pieces of the integration agree:
 *
 * - which `needsApproval` functions are Countersign's (and under which tool name they govern), so
 *   `resolveInterruptions` asks the governed call for its outcome instead of opening a second
 *   request for it;
 * - the arguments each call was governed with. `needsApproval` sees the arguments after the tool's
 *   schema parsed them, an interruption only the model's raw JSON; governing the call again must
 *   send the very same arguments or the server refuses it as another call under the same id.
 *   `saveRunState` persists these with the run, so a restarted process has them too;
 * - an `allow` just given by `needsApproval`, so the wrapped `execute` of a governed tool need not
 *   ask again a millisecond later (taken once, then forgotten).
 *
 * Nothing here is needed for correctness across processes: each entry can be recomputed by
 * governing the call again, which the server answers idempotently.
 */

export interface ApprovalPolicyInfo {
  /** The tool name Countersign governs the call as. */
  tool: string;
  /** True when the tool's `execute` is wrapped, so approved edited arguments can be applied. */
  appliesEdits: boolean;
}

const policies = new WeakMap<object, ApprovalPolicyInfo>();

export function registerApprovalPolicy(fn: object, info: ApprovalPolicyInfo): void {
  policies.set(fn, info);
}

export function approvalPolicyOf(fn: unknown): ApprovalPolicyInfo | undefined {
  return typeof fn === "function" ? policies.get(fn) : undefined;
}

/** A Map that forgets its oldest entries past `limit`, so a long-lived process does not grow. */
class BoundedMap<V> {
  private readonly entries = new Map<string, V>();
  private readonly limit: number;
  constructor(limit: number) {
    this.limit = limit;
  }
  get(key: string): V | undefined {
    return this.entries.get(key);
  }
  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.limit) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }
  clear(): void {
    this.entries.clear();
  }
  take(key: string): V | undefined {
    const value = this.entries.get(key);
    this.entries.delete(key);
    return value;
  }
}

export interface GovernedCall {
  tool: string;
  args: unknown;
}

const governedCalls = new BoundedMap<GovernedCall>(10_000);
const freshAllows = new BoundedMap<GovernResult>(1_000);

const key = (runId: string, callId: string) => `${runId}\u0000${callId}`;

export function rememberGovernedCall(runId: string, callId: string, call: GovernedCall): void {
  governedCalls.set(key(runId, callId), call);
}

export function governedCall(runId: string, callId: string): GovernedCall | undefined {
  return governedCalls.get(key(runId, callId));
}

export function rememberAllow(runId: string, callId: string, result: GovernResult): void {
  freshAllows.set(key(runId, callId), result);
}

export function takeAllow(runId: string, callId: string): GovernResult | undefined {
  return freshAllows.take(key(runId, callId));
}

/** Forgets every remembered call, as a process restart would (tests use it to simulate one). */
export function forgetGovernedCalls(): void {
  governedCalls.clear();
  freshAllows.clear();
}
