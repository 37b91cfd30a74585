import { describe, expect, it } from "vitest";
import { CountersignClient } from "./client.ts";
import { CountersignError } from "./errors.ts";
import { governResult, jwks, tokenConsumption, tokenVerification } from "./parse-governance.ts";
import { jsonResponse } from "./test-fixtures.ts";
import { ShapeError } from "./validate.ts";

/* Governance responses: what is checked, what is typed, and what passes through for newer servers. */

function governJson(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: "gov_01",
    decision: "deny",
    reason: "over budget",
    rule_id: "budget",
    policy_version: `sha256:${"d".repeat(64)}`,
    risk: null,
    stop_reason: "budget_exceeded",
    run_id: "run-1",
    call_id: "c1",
    correlation_id: "run-1",
    tool: "search.web",
    args_hash: `sha256:${"a".repeat(64)}`,
    request_id: null,
    request_status: null,
    approval_token: null,
    review_comment: null,
    approved_args: null,
    grant_id: null,
    budgets: {
      limits: { max_steps: null, max_tool_calls: 5, max_seconds: null, max_usd: 2.5 },
      usage: { steps: 6, tool_calls: 6, seconds: 1.25, usd: 0.5 },
      remaining: { tool_calls: 0, usd: 2 },
      exceeded: ["max_tool_calls"],
      extensions: 0,
    },
    replayed: false,
    created_at: "2025-06-01T12:00:00.125Z",
    ...overrides,
  };
}

const CLAIMS = {
  iss: "countersign",
  jti: "tok_01",
  sub: "key_01",
  request_id: "req_01",
  agent_id: null,
  tool: "payments.send",
  args_hash: `sha256:${"e".repeat(64)}`,
  iat: 1_748_779_200,
  exp: 1_748_782_800,
  run_id: "run-1",
};

describe("governResult", () => {
  it("types the answer, its budgets and its timestamp", () => {
    const result = governResult(governJson(), "$");
    expect(result.created_at).toEqual(new Date("2025-06-01T12:00:00.125Z"));
    expect(result.budgets?.limits.max_usd).toBe(2.5);
    expect(result.budgets?.remaining).toEqual({ tool_calls: 0, usd: 2 });
    expect(result.budgets?.exceeded).toEqual(["max_tool_calls"]);
    expect(result.stop_reason).toBe("budget_exceeded");
  });

  it("passes unknown stop reasons and new fields through", () => {
    const result = governResult(governJson({ stop_reason: "quota_frozen", score: 0.3 }), "$");
    expect(result.stop_reason).toBe("quota_frozen");
    expect((result as unknown as { score: number }).score).toBe(0.3);
  });

  it.each([
    ["a decision it does not know", { decision: "allow_once" }, "$.decision"],
    ["a missing tool", { tool: undefined }, "$.tool"],
    ["an unknown request status", { request_status: "parked" }, "$.request_status"],
    [
      "a budget limit that is text",
      { budgets: { ...budgetsWith({ max_usd: "5" }) } },
      "$.budgets.limits.max_usd",
    ],
    ["a creation time without a zone", { created_at: "2025-06-01T12:00:00" }, "$.created_at"],
  ])("refuses %s, naming %s", (_what, overrides, path) => {
    expect(() => governResult(governJson(overrides), "$")).toThrow(
      expect.objectContaining({ name: "ShapeError", path }),
    );
  });

  it("makes an unknown decision an invalid_response rather than anything that could pass for allow", async () => {
    const client = new CountersignClient({
      baseUrl: "http://countersign.test",
      apiKey: "cs_agent_x",
      fetch: async () => jsonResponse(governJson({ decision: "allow_once" })),
    });
    const error = await client.govern({ run_id: "run-1", tool: "search.web" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CountersignError);
    expect((error as CountersignError).code).toBe("invalid_response");
  });
});

function budgetsWith(limits: Record<string, unknown>): Record<string, unknown> {
  const budgets = governJson().budgets as Record<string, unknown>;
  return { ...budgets, limits: { ...(budgets.limits as object), ...limits } };
}

describe("token answers", () => {
  it("types the claims, keeping optional ones absent when absent", () => {
    const verified = tokenVerification({ valid: true, claims: CLAIMS, consumed: false }, "$");
    expect(verified.claims).toEqual(CLAIMS);
    expect("call_id" in verified.claims).toBe(false);
    const consumed = tokenConsumption(
      { consumed: true, claims: CLAIMS, executed_args_hash: CLAIMS.args_hash },
      "$",
    );
    expect(consumed.executed_args_hash).toBe(CLAIMS.args_hash);
  });

  it("accepts only a literal true as the verdict", () => {
    expect(() => tokenVerification({ valid: "yes", claims: CLAIMS, consumed: false }, "$")).toThrow(
      ShapeError,
    );
    expect(() => tokenConsumption({ consumed: false, claims: CLAIMS, executed_args_hash: "x" }, "$")).toThrow(
      /\$\.consumed/,
    );
    expect(() =>
      tokenVerification({ valid: true, claims: { ...CLAIMS, iat: "now" }, consumed: false }, "$"),
    ).toThrow(/\$\.claims\.iat/);
  });
});

describe("jwks", () => {
  it("keeps each key's members and refuses a key list that is not a list", () => {
    const key = { kty: "OKP", crv: "Ed25519", x: "abc", kid: "sig_1", alg: "EdDSA", use: "sig" };
    expect(jwks({ keys: [key] }, "$")).toEqual({ keys: [key] });
    expect(() => jwks({ keys: key }, "$")).toThrow(/\$\.keys/);
    expect(() => jwks({ keys: [{ ...key, x: 5 }] }, "$")).toThrow(/\$\.keys\[0\]\.x/);
  });
});
