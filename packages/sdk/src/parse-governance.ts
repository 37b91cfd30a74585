import type { ApprovalTokenClaims, ApprovalTokenJwk } from "./approval-token.ts";
import type {
  BudgetView,
  GovernResult,
  Jwks,
  TokenConsumption,
  TokenVerification,
} from "./governance-types.ts";
import { copyOptional } from "./parse.ts";
import { REQUEST_STATUSES } from "./types.ts";
import {
  anything,
  arrayOf,
  bool,
  field,
  int,
  nullable,
  obj,
  oneOf,
  type Parser,
  ShapeError,
  str,
  timestamp,
} from "./validate.ts";

/*
 * Parsers for the governance resources, checked against the server's schemas
 * (packages/server/src/http/schemas/governance.ts and tokens.ts) in the style of parse.ts.
 *
 * `decision` is checked strictly: a decision this SDK does not know must never be mistaken for a
 * go-ahead. Stop reasons are free strings, so a newer server can add some.
 */

const num: Parser<number> = (value, path) => {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new ShapeError(path, `expected a number, got ${value === null ? "null" : typeof value}`);
  }
  return value;
};

const budgetLimits: Parser<BudgetView["limits"]> = (value, path) => {
  const o = obj(value, path);
  return {
    ...o,
    max_steps: field(o, "max_steps", nullable(num), path),
    max_tool_calls: field(o, "max_tool_calls", nullable(num), path),
    max_seconds: field(o, "max_seconds", nullable(num), path),
    max_usd: field(o, "max_usd", nullable(num), path),
  };
};

const budgetUsage: Parser<BudgetView["usage"]> = (value, path) => {
  const o = obj(value, path);
  return {
    ...o,
    steps: field(o, "steps", num, path),
    tool_calls: field(o, "tool_calls", num, path),
    seconds: field(o, "seconds", num, path),
    usd: field(o, "usd", num, path),
  };
};

const budgetRemaining: Parser<BudgetView["remaining"]> = (value, path) => {
  const o = obj(value, path);
  const out: Record<string, unknown> = { ...o };
  for (const key of ["steps", "tool_calls", "seconds", "usd"]) copyOptional(out, o, key, num, path);
  return out as BudgetView["remaining"];
};

export const budgetView: Parser<BudgetView> = (value, path) => {
  const o = obj(value, path);
  return {
    ...o,
    limits: field(o, "limits", budgetLimits, path),
    usage: field(o, "usage", budgetUsage, path),
    remaining: field(o, "remaining", budgetRemaining, path),
    exceeded: field(o, "exceeded", arrayOf(str), path),
    extensions: field(o, "extensions", int, path),
  };
};

export const governResult: Parser<GovernResult> = (value, path) => {
  const o = obj(value, path);
  return {
    ...o,
    id: field(o, "id", str, path),
    decision: field(o, "decision", oneOf(["allow", "deny", "approval_required"]), path),
    reason: field(o, "reason", str, path),
    rule_id: field(o, "rule_id", str, path),
    policy_version: field(o, "policy_version", str, path),
    risk: field(o, "risk", nullable(str), path),
    stop_reason: field(o, "stop_reason", nullable(str), path),
    run_id: field(o, "run_id", str, path),
    call_id: field(o, "call_id", nullable(str), path),
    correlation_id: field(o, "correlation_id", str, path),
    tool: field(o, "tool", str, path),
    args_hash: field(o, "args_hash", str, path),
    request_id: field(o, "request_id", nullable(str), path),
    request_status: field(o, "request_status", nullable(oneOf(REQUEST_STATUSES)), path),
    approval_token: field(o, "approval_token", nullable(str), path),
    review_comment: field(o, "review_comment", nullable(str), path),
    approved_args: field(o, "approved_args", anything, path),
    grant_id: field(o, "grant_id", nullable(str), path),
    budgets: field(o, "budgets", nullable(budgetView), path),
    replayed: field(o, "replayed", bool, path),
    created_at: field(o, "created_at", timestamp, path),
  };
};

/** The claims as the server reports them (it verified the token; this only checks the types). */
export const tokenClaims: Parser<ApprovalTokenClaims> = (value, path) => {
  const o = obj(value, path);
  const out: Record<string, unknown> = {
    ...o,
    iss: field(o, "iss", str, path),
    jti: field(o, "jti", str, path),
    sub: field(o, "sub", str, path),
    request_id: field(o, "request_id", str, path),
    agent_id: field(o, "agent_id", nullable(str), path),
    tool: field(o, "tool", str, path),
    args_hash: field(o, "args_hash", str, path),
    iat: field(o, "iat", int, path),
    exp: field(o, "exp", int, path),
  };
  copyOptional(out, o, "run_id", str, path);
  copyOptional(out, o, "call_id", str, path);
  return out as unknown as ApprovalTokenClaims;
};

/** The server only answers 200 for a valid (or consumed) token; anything but `true` is not that answer. */
const literalTrue: Parser<true> = (value, path) => {
  if (value !== true) throw new ShapeError(path, `expected true, got ${JSON.stringify(value) ?? "nothing"}`);
  return true;
};

export const tokenVerification: Parser<TokenVerification> = (value, path) => {
  const o = obj(value, path);
  return {
    ...o,
    valid: field(o, "valid", literalTrue, path),
    claims: field(o, "claims", tokenClaims, path),
    consumed: field(o, "consumed", bool, path),
  };
};

export const tokenConsumption: Parser<TokenConsumption> = (value, path) => {
  const o = obj(value, path);
  return {
    ...o,
    consumed: field(o, "consumed", literalTrue, path),
    claims: field(o, "claims", tokenClaims, path),
    executed_args_hash: field(o, "executed_args_hash", str, path),
  };
};

const jwk: Parser<ApprovalTokenJwk> = (value, path) => {
  const o = obj(value, path);
  const out: Record<string, unknown> = { ...o };
  for (const key of ["kid", "kty", "crv", "x", "alg", "use"]) copyOptional(out, o, key, str, path);
  return out as ApprovalTokenJwk;
};

export const jwks: Parser<Jwks> = (value, path) => {
  const o = obj(value, path);
  return { ...o, keys: field(o, "keys", arrayOf(jwk), path) };
};
