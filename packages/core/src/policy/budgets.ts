import { checkObject, readInteger, readNumber } from "./checks.ts";
import { APPROVAL_KEYS, readOutcome, resolveApproval } from "./outcome.ts";
import { childPath, type ProblemSink } from "./problems.ts";
import {
  BUDGET_LIMITS,
  type BudgetLimit,
  type BudgetsSpec,
  type PolicyBudgets,
  type RiskTier,
} from "./types.ts";

/**
 * Per-run budgets. The policy declares them; the server keeps the run's usage and calls
 * `checkBudgets` on every governed call.
 *
 * Usage includes the call being decided: the server adds the call (one step, one tool call, its
 * `cost_usd`) to the run's totals *before* checking. A limit is exceeded when usage goes strictly
 * above it, so `max_tool_calls: 100` lets exactly 100 calls through and stops the 101st.
 * `max_seconds` is measured from the run's first governed call (`first_call_at_ms`, null when the
 * call being decided is the first). Dollar amounts are compared with a 1e-9 tolerance so that
 * floating-point sums of cents do not trip a limit they only touch.
 */

const USD_EPSILON = 1e-9;
const MAX_COUNT = 1_000_000_000;

export interface BudgetUsage {
  steps: number;
  tool_calls: number;
  first_call_at_ms: number | null;
  usd: number;
}

export type BudgetLimits = { [K in BudgetLimit]?: number | null };

export interface BudgetCheck {
  /** Limits the run has gone over, in the order max_steps, max_tool_calls, max_seconds, max_usd. */
  exceeded: BudgetLimit[];
  /** What is left after this call, for the limits the policy sets; never negative. */
  remaining: { steps?: number; tool_calls?: number; seconds?: number; usd?: number };
}

/**
 * Pure: the same budgets, usage and time always give the same answer. A usage figure that is not
 * a finite number counts as over its limit (failing open on corrupt counters would be worse).
 */
export function checkBudgets(budgets: BudgetLimits | null, usage: BudgetUsage, nowMs: number): BudgetCheck {
  const result: BudgetCheck = { exceeded: [], remaining: {} };
  if (!budgets) return result;
  const count = (limit: BudgetLimit, used: number, max: number, epsilon = 0): number => {
    if (!Number.isFinite(used) || used > max + epsilon) result.exceeded.push(limit);
    return Number.isFinite(used) ? Math.max(0, max - used) : 0;
  };
  if (budgets.max_steps != null) {
    result.remaining.steps = count("max_steps", usage.steps, budgets.max_steps);
  }
  if (budgets.max_tool_calls != null) {
    result.remaining.tool_calls = count("max_tool_calls", usage.tool_calls, budgets.max_tool_calls);
  }
  if (budgets.max_seconds != null) {
    const elapsed = usage.first_call_at_ms === null ? 0 : Math.max(0, nowMs - usage.first_call_at_ms) / 1000;
    result.remaining.seconds = count("max_seconds", elapsed, budgets.max_seconds);
  }
  if (budgets.max_usd != null) {
    const left = count("max_usd", usage.usd, budgets.max_usd, USD_EPSILON);
    result.remaining.usd = Math.round(left * 1e9) / 1e9;
  }
  return result;
}

/** Checks the `budgets:` block; returns the normalised spec and what the server enforces. */
export function readBudgets(
  raw: unknown,
  path: string,
  sink: ProblemSink,
  tiers: Record<string, RiskTier>,
): { spec: BudgetsSpec; budgets: PolicyBudgets } | undefined {
  if (raw === undefined) return undefined;
  const obj = checkObject(raw, path, sink, [...BUDGET_LIMITS, "on_exceed", "risk", ...APPROVAL_KEYS]);
  if (!obj) return undefined;
  const before = sink.count;
  const limits: BudgetLimits = {
    max_steps: readInteger(obj.max_steps, childPath(path, "max_steps"), sink, 0, MAX_COUNT),
    max_tool_calls: readInteger(obj.max_tool_calls, childPath(path, "max_tool_calls"), sink, 0, MAX_COUNT),
    max_seconds: readNumber(obj.max_seconds, childPath(path, "max_seconds"), sink, 0),
    max_usd: readNumber(obj.max_usd, childPath(path, "max_usd"), sink, 0),
  };
  if (BUDGET_LIMITS.every((k) => obj[k] === undefined)) {
    sink.add(path, `budgets needs at least one of ${BUDGET_LIMITS.join(", ")}`);
  }
  const outcome = readOutcome(
    { ...obj, on_exceed: obj.on_exceed ?? "deny" },
    path,
    sink,
    tiers,
    "on_exceed",
    ["deny", "approval_required"],
  );
  if (!outcome || sink.count > before) return undefined;
  const { decision, reason: _reason, ...approvalAndRisk } = outcome;
  const on_exceed = decision as BudgetsSpec["on_exceed"];
  const spec: BudgetsSpec = { ...stripNullish(limits), on_exceed, ...approvalAndRisk };
  const budgets: PolicyBudgets = Object.freeze({
    max_steps: limits.max_steps ?? null,
    max_tool_calls: limits.max_tool_calls ?? null,
    max_seconds: limits.max_seconds ?? null,
    max_usd: limits.max_usd ?? null,
    on_exceed,
    risk: outcome.risk ?? null,
    approval: on_exceed === "approval_required" ? resolveApproval(outcome, tiers) : null,
  });
  return { spec, budgets };
}

function stripNullish(limits: BudgetLimits): { [K in BudgetLimit]?: number } {
  const out: { [K in BudgetLimit]?: number } = {};
  for (const k of BUDGET_LIMITS) {
    const v = limits[k];
    if (v != null) out[k] = v;
  }
  return out;
}
