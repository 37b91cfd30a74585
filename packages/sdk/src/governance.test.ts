import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startTestServer, type TestServer } from "../../server/src/testing/harness.ts";
import { ApprovalTokenVerificationError, argsHash } from "./approval-token.ts";
import { CountersignClient } from "./client.ts";
import { CountersignError } from "./errors.ts";
import type { FetchLike } from "./transport.ts";

/*
 * The client's governance calls against a real server (SQLite in a temp directory) under a policy
 * that allows search.*, denies db.drop and parks payments.send for a reviewer.
 */

const POLICY = `version: 1
default: { decision: deny, reason: "no rule matched" }
budgets:
  max_usd: 100
rules:
  - id: search
    match: { tool: "search.*" }
    decision: allow
  - id: no-drops
    match: { tool: db.drop }
    decision: deny
    reason: "dropping tables is never allowed"
  - id: payments
    match: { tool: payments.send }
    decision: approval_required
    reason: "payments need a human"
`;

let server: TestServer;
let agent: CountersignClient;
let reviewer: CountersignClient;
/** Paths the agent client fetched, in order. */
const fetched: string[] = [];

beforeAll(async () => {
  server = await startTestServer();
  const put = await fetch(`${server.url}/v1/policy`, {
    method: "PUT",
    headers: { authorization: `Bearer ${server.adminKey}`, "content-type": "application/json" },
    body: JSON.stringify({ source: POLICY }),
  });
  if (put.status !== 200) throw new Error(`putting the policy failed: ${put.status} ${await put.text()}`);
  const spy: FetchLike = (input, init) => {
    fetched.push(new URL(input).pathname);
    return globalThis.fetch(input, init);
  };
  agent = new CountersignClient({ baseUrl: server.url, apiKey: await server.createKey("agent"), fetch: spy });
  reviewer = new CountersignClient({ baseUrl: server.url, apiKey: await server.createKey("reviewer") });
});

afterAll(async () => {
  await server?.close();
});

/** Runs `fn` and returns the CountersignError it must throw. */
async function failure(fn: () => Promise<unknown>): Promise<CountersignError> {
  try {
    await fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CountersignError);
    return error as CountersignError;
  }
  throw new Error("expected a CountersignError, but the call succeeded");
}

/** Parks a payment, has the reviewer approve it (with `edit` as the approved args, if given), returns the token. */
async function approvedPayment(args: Record<string, unknown>, edit?: Record<string, unknown>) {
  const run_id = `run-${randomUUID()}`;
  const parked = await agent.govern({ run_id, call_id: "pay", tool: "payments.send", args });
  expect(parked.decision).toBe("approval_required");
  await reviewer.respond(parked.request_id as string, {
    approved: true,
    comment: "ok",
    ...(edit ? { modified_args: edit } : {}),
  });
  const resumed = await agent.govern({ run_id, call_id: "pay", tool: "payments.send", args });
  expect(resumed.approval_token).toEqual(expect.any(String));
  return { parked, resumed, token: resumed.approval_token as string };
}

describe("govern", () => {
  it("allows a matching call, with its budget and a parsed timestamp", async () => {
    const run_id = `run-${randomUUID()}`;
    const result = await agent.govern({
      run_id,
      call_id: "q1",
      tool: "search.web",
      args: { q: "x" },
      cost_usd: 2,
    });
    expect(result).toMatchObject({
      decision: "allow",
      rule_id: "search",
      stop_reason: null,
      request_id: null,
      run_id,
      call_id: "q1",
      correlation_id: run_id,
      tool: "search.web",
      replayed: false,
    });
    expect(result.id).toMatch(/^gov_/);
    expect(result.policy_version).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(result.args_hash).toBe(await argsHash({ q: "x" }));
    expect(result.created_at).toBeInstanceOf(Date);
    expect(Math.abs(Date.now() - result.created_at.getTime())).toBeLessThan(60_000);
    expect(result.budgets?.limits.max_usd).toBe(100);
    expect(result.budgets?.remaining.usd).toBe(98);
  });

  it("denies with the rule, reason and stop reason", async () => {
    const result = await agent.govern({
      run_id: `run-${randomUUID()}`,
      tool: "db.drop",
      args: { table: "users" },
    });
    expect(result).toMatchObject({
      decision: "deny",
      rule_id: "no-drops",
      reason: "dropping tables is never allowed",
      stop_reason: "policy_denied",
    });
  });

  it("parks a call that needs approval, then answers a replay with the approved args and token", async () => {
    const { parked, resumed, token } = await approvedPayment(
      { to: "acct-1", amount: 500 },
      { to: "acct-1", amount: 50 },
    );
    expect(parked).toMatchObject({
      decision: "approval_required",
      stop_reason: "approval_required",
      request_status: "pending",
      approval_token: null,
    });
    expect(parked.request_id).toMatch(/^req_/);
    expect(resumed).toMatchObject({
      id: parked.id,
      replayed: true,
      request_status: "approved",
      approved_args: { to: "acct-1", amount: 50 },
      review_comment: "ok",
    });
    expect(token.split(".")).toHaveLength(3);
  });

  it("replays a rejected call with stop reason approval_rejected and the reviewer's comment", async () => {
    const run_id = `run-${randomUUID()}`;
    const parked = await agent.govern({ run_id, call_id: "pay", tool: "payments.send", args: { amount: 9 } });
    await reviewer.respond(parked.request_id as string, { approved: false, comment: "wrong vendor" });
    const replay = await agent.govern({ run_id, call_id: "pay", tool: "payments.send", args: { amount: 9 } });
    expect(replay).toMatchObject({
      decision: "approval_required",
      request_status: "rejected",
      stop_reason: "approval_rejected",
      review_comment: "wrong vendor",
      approval_token: null,
    });
  });

  it("reports a refused body as 400 naming the field", async () => {
    const error = await failure(() => agent.govern({ run_id: "", tool: "search.web" }));
    expect(error.status).toBe(400);
    expect(error.errors.map((e) => e.path)).toContain("/run_id");
  });
});

describe("approval tokens at the server", () => {
  it("verifies a token for the approved args without using it up, and says when it has been used", async () => {
    const { token, parked } = await approvedPayment({ to: "acct-2", amount: 70 });
    const call = { token, tool: "payments.send", args: { to: "acct-2", amount: 70 } };
    const before = await agent.verifyApprovalTokenOnline(call);
    expect(before).toMatchObject({ valid: true, consumed: false });
    expect(before.claims).toMatchObject({
      request_id: parked.request_id,
      tool: "payments.send",
      call_id: "pay",
    });
    expect(before.claims.args_hash).toBe(await argsHash(call.args));
    await agent.consumeApprovalToken(call);
    expect((await agent.verifyApprovalTokenOnline(call)).consumed).toBe(true);
  });

  it("consumes a token once (409 the second time) and refuses other args or another tool with 403", async () => {
    const { token } = await approvedPayment({ to: "acct-3", amount: 500 }, { to: "acct-3", amount: 40 });
    const proposed = await failure(() =>
      agent.consumeApprovalToken({ token, tool: "payments.send", args: { to: "acct-3", amount: 500 } }),
    );
    expect(proposed.status).toBe(403);
    expect(proposed.code).toBe("args_mismatch");
    expect(proposed.retryable).toBe(false);
    const otherTool = await failure(() =>
      agent.consumeApprovalToken({ token, tool: "payments.refund", args: { to: "acct-3", amount: 40 } }),
    );
    expect(otherTool.code).toBe("tool_mismatch");

    const approved = { token, tool: "payments.send", args: { to: "acct-3", amount: 40 } };
    const consumed = await agent.consumeApprovalToken(approved);
    expect(consumed.consumed).toBe(true);
    expect(consumed.executed_args_hash).toBe(await argsHash(approved.args));
    expect(consumed.claims.args_hash).toBe(consumed.executed_args_hash);
    const twice = await failure(() => agent.consumeApprovalToken(approved));
    expect(twice.status).toBe(409);
    expect(twice.code).toBe("token_already_used");
  });

  it("refuses a tampered token", async () => {
    const { token } = await approvedPayment({ amount: 1 });
    const [header, payload, signature] = token.split(".") as [string, string, string];
    const flipped = `${signature.slice(0, -2)}${signature.endsWith("AA") ? "BA" : "AA"}`;
    const error = await failure(() =>
      agent.verifyApprovalTokenOnline({
        token: `${header}.${payload}.${flipped}`,
        tool: "payments.send",
        args: { amount: 1 },
      }),
    );
    expect(error.status).toBe(403);
    expect(error.code).toBe("bad_signature");
  });
});

describe("offline verification", () => {
  it("passes for the approved (edited) args and fails for the proposed ones, fetching the keys once", async () => {
    const { token, parked } = await approvedPayment(
      { to: "acct-4", amount: 900 },
      { to: "acct-4", amount: 90 },
    );
    const jwksFetchesBefore = fetched.filter((p) => p === "/.well-known/jwks.json").length;
    const claims = await agent.verifyApprovalToken(token, {
      tool: "payments.send",
      args: { amount: 90, to: "acct-4" },
    });
    expect(claims).toMatchObject({
      request_id: parked.request_id,
      tool: "payments.send",
      run_id: parked.run_id,
    });

    const proposed = await agent
      .verifyApprovalToken(token, { tool: "payments.send", args: { to: "acct-4", amount: 900 } })
      .catch((e: unknown) => e);
    expect(proposed).toBeInstanceOf(ApprovalTokenVerificationError);
    expect((proposed as ApprovalTokenVerificationError).code).toBe("args_mismatch");
    const otherTool = await agent
      .verifyApprovalToken(token, { tool: "payments.refund", args: { to: "acct-4", amount: 90 } })
      .catch((e: unknown) => e);
    expect((otherTool as ApprovalTokenVerificationError).code).toBe("tool_mismatch");
    const later = await agent
      .verifyApprovalToken(
        token,
        { tool: "payments.send", args: { to: "acct-4", amount: 90 } },
        { now: new Date(Date.now() + 86_400_000) },
      )
      .catch((e: unknown) => e);
    expect((later as ApprovalTokenVerificationError).code).toBe("expired");

    // Three verifications, at most one fetch of the keys (none if an earlier test cached them).
    const jwksFetches = fetched.filter((p) => p === "/.well-known/jwks.json").length - jwksFetchesBefore;
    expect(jwksFetches).toBeLessThanOrEqual(1);
    expect(fetched).toContain("/.well-known/jwks.json");
  });

  it("serves the published keys, and fetches anew on refresh", async () => {
    const keys = await agent.getJwks();
    expect(keys.keys.length).toBeGreaterThan(0);
    for (const key of keys.keys)
      expect(key).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
    const count = () => fetched.filter((p) => p === "/.well-known/jwks.json").length;
    const before = count();
    expect(await agent.getJwks()).toBe(keys);
    expect(count()).toBe(before);
    const refreshed = await agent.getJwks({ refresh: true });
    expect(count()).toBe(before + 1);
    expect(refreshed).toEqual(keys);
  });

  it("looks once more for a key rotated in after the keys were cached, but not on every miss", async () => {
    const paths: string[] = [];
    const client = new CountersignClient({
      baseUrl: server.url,
      apiKey: await server.createKey("agent"),
      fetch: (input, init) => {
        paths.push(new URL(input).pathname);
        return globalThis.fetch(input, init);
      },
    });
    // The cache reads performance.now(); moving it forward stands in for time passing.
    const realNow = performance.now.bind(performance);
    let skipped = 0;
    const clock = vi.spyOn(performance, "now").mockImplementation(() => realNow() + skipped);
    try {
      const stale = await client.getJwks();
      const rotate = await fetch(`${server.url}/v1/signing-keys/rotate`, {
        method: "POST",
        headers: { authorization: `Bearer ${server.adminKey}` },
      });
      expect(rotate.status).toBe(200);
      const run_id = `run-${randomUUID()}`;
      const call = { run_id, call_id: "pay", tool: "payments.send", args: { amount: 3 } };
      const parked = await client.govern(call);
      await reviewer.respond(parked.request_id as string, { approved: true });
      const token = (await client.govern(call)).approval_token as string;
      const kid = (
        JSON.parse(atob((token.split(".")[0] as string).replace(/-/g, "+").replace(/_/g, "/"))) as {
          kid: string;
        }
      ).kid;
      expect(stale.keys.map((k) => k.kid)).not.toContain(kid);
      const jwksFetches = () => paths.filter((p) => p === "/.well-known/jwks.json").length;

      skipped = 5_000;
      const tooSoon = await client
        .verifyApprovalToken(token, { tool: "payments.send", args: { amount: 3 } })
        .catch((e: unknown) => e);
      expect((tooSoon as ApprovalTokenVerificationError).code).toBe("unknown_key");
      expect(jwksFetches()).toBe(1);

      skipped = 11_000;
      const claims = await client.verifyApprovalToken(token, { tool: "payments.send", args: { amount: 3 } });
      expect(claims.request_id).toBe(parked.request_id);
      expect(jwksFetches()).toBe(2);
    } finally {
      clock.mockRestore();
    }
  });
});
