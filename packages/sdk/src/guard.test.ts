import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../server/src/testing/harness.ts";
import { argsHash } from "./approval-token.ts";
import { CountersignClient } from "./client.ts";
import { CountersignError } from "./errors.ts";
import { type GuardContext, guard } from "./guard.ts";
import {
  ApprovalRejectedError,
  ApprovalTimeoutError,
  GovernDeniedError,
  RequestCancelledError,
} from "./outcome-errors.ts";
import type { FetchLike } from "./transport.ts";
import type { ApprovalRequest } from "./types.ts";

/*
 * Guarded tools against a real server. No test sleeps on a timer to let the guard get somewhere: a
 * reviewer finds the parked request by listing pending requests, and decides while the guard is
 * held in its long-poll. A spy on fetch shows which calls the guard made.
 */

const POLICY = `version: 1
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
let agentKey: string;
let reviewer: CountersignClient;

beforeAll(async () => {
  server = await startTestServer();
  const put = await fetch(`${server.url}/v1/policy`, {
    method: "PUT",
    headers: { authorization: `Bearer ${server.adminKey}`, "content-type": "application/json" },
    body: JSON.stringify({ source: POLICY }),
  });
  if (put.status !== 200) throw new Error(`putting the policy failed: ${put.status} ${await put.text()}`);
  agentKey = await server.createKey("agent");
  reviewer = new CountersignClient({ baseUrl: server.url, apiKey: await server.createKey("reviewer") });
});

afterAll(async () => {
  await server?.close();
});

/** An agent client whose calls are recorded as `METHOD /path`. */
function spiedAgent(): { client: CountersignClient; calls: string[] } {
  const calls: string[] = [];
  const fetch: FetchLike = (input, init) => {
    calls.push(`${init.method} ${new URL(input).pathname}`);
    return globalThis.fetch(input, init);
  };
  return { client: new CountersignClient({ baseUrl: server.url, apiKey: agentKey, fetch }), calls };
}

interface Payment {
  to: string;
  amount: number;
}

/** A tool that records what it was run with. */
function paymentTool() {
  const runs: Array<{ args: Payment; context: GuardContext }> = [];
  const send = (args: Payment, context: GuardContext) => {
    runs.push({ args, context });
    return `sent ${args.amount} to ${args.to}`;
  };
  return { runs, send };
}

/** The parked request of `runId`, once the guard has created it (the guard's run is its case). */
async function pendingRequest(runId: string): Promise<ApprovalRequest> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const page = await reviewer.listRequests({ status: "pending", correlationId: runId });
    const [request] = page.data;
    if (request) return request;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no pending request appeared for ${runId}`);
}

/** The error `promise` rejects with. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection, but the call succeeded");
}

describe("guard", () => {
  it("runs an allowed call at once, with the proposed args and a generated call id", async () => {
    const { client, calls } = spiedAgent();
    const seen: Array<{ args: { q: string }; context: GuardContext }> = [];
    const search = guard(client, "search.web", (args: { q: string }, context) => {
      seen.push({ args, context });
      return ["result"];
    });
    const runId = `run-${randomUUID()}`;
    expect(await search({ q: "invoices" }, { runId })).toEqual(["result"]);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.args).toEqual({ q: "invoices" });
    expect(seen[0]?.context.governed).toMatchObject({ decision: "allow", rule_id: "search", run_id: runId });
    expect(seen[0]?.context.governed.call_id).toMatch(/^call_/);
    expect(seen[0]?.context.approval).toBeNull();
    expect(calls).toEqual(["POST /v1/govern"]);
  });

  it("throws GovernDeniedError on deny, without running the tool", async () => {
    const { client } = spiedAgent();
    let ran = false;
    const drop = client.guard("db.drop", () => {
      ran = true;
    });
    const error = await rejection(drop({ table: "users" }, { runId: `run-${randomUUID()}`, callId: "d1" }));
    expect(error).toBeInstanceOf(GovernDeniedError);
    const denied = error as GovernDeniedError;
    expect(denied).toMatchObject({
      code: "govern_denied",
      stopReason: "policy_denied",
      reason: "dropping tables is never allowed",
      ruleId: "no-drops",
      budgets: null,
      retryable: false,
    });
    expect(denied.policyVersion).toMatch(/^sha256:/);
    expect(denied.result.call_id).toBe("d1");
    expect(ran).toBe(false);
  });

  it("parks until a reviewer approves, then consumes the token and runs the tool once", async () => {
    const { client, calls } = spiedAgent();
    const { runs, send } = paymentTool();
    const pay = guard(client, "payments.send", send);
    const runId = `run-${randomUUID()}`;
    const result = pay({ to: "acct-1", amount: 120 }, { runId, callId: "pay-1" });

    const request = await pendingRequest(runId);
    expect(request.tool?.args).toEqual({ to: "acct-1", amount: 120 });
    expect(runs).toHaveLength(0);
    await reviewer.respond(request.id, { approved: true, comment: "fine" });

    expect(await result).toBe("sent 120 to acct-1");
    expect(runs).toHaveLength(1);
    expect(runs[0]?.args).toEqual({ to: "acct-1", amount: 120 });
    expect(runs[0]?.context.approval).toMatchObject({ consumed: true });
    expect(runs[0]?.context.approval?.claims.request_id).toBe(request.id);
    expect(runs[0]?.context.governed).toMatchObject({ request_status: "approved", review_comment: "fine" });
    // Held in the long-poll rather than asking again and again; consumed before running.
    expect(calls.filter((c) => c.endsWith("/wait")).length).toBeGreaterThanOrEqual(1);
    expect(calls.filter((c) => !c.endsWith("/wait"))).toEqual([
      "POST /v1/govern",
      "POST /v1/govern",
      "POST /v1/tokens/consume",
    ]);
  });

  it("runs the tool with the arguments the reviewer edited, not the proposed ones", async () => {
    const { client } = spiedAgent();
    const { runs, send } = paymentTool();
    const pay = client.guard("payments.send", send);
    const runId = `run-${randomUUID()}`;
    const result = pay({ to: "acct-2", amount: 5000 }, { runId, callId: "pay-1" });
    const request = await pendingRequest(runId);
    await reviewer.respond(request.id, {
      approved: true,
      comment: "half now",
      modified_args: { to: "acct-2", amount: 2500 },
    });

    expect(await result).toBe("sent 2500 to acct-2");
    expect(runs.map((r) => r.args)).toEqual([{ to: "acct-2", amount: 2500 }]);
    expect(runs[0]?.context.approval?.executed_args_hash).toBe(
      await argsHash({ to: "acct-2", amount: 2500 }),
    );
    expect(runs[0]?.context.governed.approved_args).toEqual({ to: "acct-2", amount: 2500 });
  });

  it("checks edited arguments with parseApprovedArgs before using the token", async () => {
    const { client, calls } = spiedAgent();
    const { runs, send } = paymentTool();
    const pay = guard(client, "payments.send", send, {
      parseApprovedArgs: (value) => {
        const args = value as Partial<Payment>;
        if (typeof args.to !== "string" || typeof args.amount !== "number")
          throw new TypeError("not a payment");
        return { to: args.to, amount: args.amount };
      },
    });
    const runId = `run-${randomUUID()}`;
    const result = pay({ to: "acct-5", amount: 10 }, { runId, callId: "pay-1" });
    const request = await pendingRequest(runId);
    await reviewer.respond(request.id, { approved: true, modified_args: { to: "acct-5" } });

    await expect(result).rejects.toThrow("not a payment");
    expect(runs).toHaveLength(0);
    expect(calls).not.toContain("POST /v1/tokens/consume");
  });

  it("throws ApprovalRejectedError with the reviewer's comment, without running the tool", async () => {
    const { client } = spiedAgent();
    const { runs, send } = paymentTool();
    const pay = guard(client, "payments.send", send);
    const runId = `run-${randomUUID()}`;
    const result = rejection(pay({ to: "acct-3", amount: 80 }, { runId, callId: "pay-1" }));
    const request = await pendingRequest(runId);
    await reviewer.respond(request.id, { approved: false, comment: "unknown vendor" });

    const error = await result;
    expect(error).toBeInstanceOf(ApprovalRejectedError);
    expect(error).toMatchObject({ comment: "unknown vendor", stopReason: "approval_rejected" });
    expect((error as ApprovalRejectedError).request.id).toBe(request.id);
    expect(runs).toHaveLength(0);
  });

  it("throws RequestCancelledError when the request is cancelled while it waits", async () => {
    const { client } = spiedAgent();
    const { runs, send } = paymentTool();
    const pay = guard(client, "payments.send", send);
    const runId = `run-${randomUUID()}`;
    const result = rejection(pay({ to: "acct-6", amount: 1 }, { runId, callId: "pay-1" }));
    const request = await pendingRequest(runId);
    await client.cancel(request.id, "the user gave up");

    const error = await result;
    expect(error).toBeInstanceOf(RequestCancelledError);
    expect(error).toMatchObject({ reason: "the user gave up", stopReason: "approval_cancelled" });
    expect(runs).toHaveLength(0);
  });

  it("resumes with the same call id after a wait timeout, then refuses to run an approval twice", async () => {
    const { client, calls } = spiedAgent();
    const { runs, send } = paymentTool();
    const pay = guard(client, "payments.send", send, { pollSeconds: 1 });
    const runId = `run-${randomUUID()}`;
    const call = { runId, callId: "pay-1" };

    const timedOut = await rejection(pay({ to: "acct-4", amount: 30 }, { ...call, timeoutMs: 0 }));
    expect(timedOut).toBeInstanceOf(ApprovalTimeoutError);
    expect(timedOut).toMatchObject({
      reason: "wait_timeout",
      retryable: true,
      stopReason: "approval_required",
    });
    const request = (timedOut as ApprovalTimeoutError).request;
    await reviewer.respond(request.id, { approved: true });

    // The same call again finds the approval instead of asking reviewers a second time.
    expect(await pay({ to: "acct-4", amount: 30 }, call)).toBe("sent 30 to acct-4");
    expect(runs).toHaveLength(1);
    expect((await reviewer.listRequests({ correlationId: runId })).data.map((r) => r.id)).toEqual([
      request.id,
    ]);

    // Its token is used up: a third attempt must not run the tool again.
    const again = await rejection(pay({ to: "acct-4", amount: 30 }, call));
    expect(again).toBeInstanceOf(CountersignError);
    expect(again).toMatchObject({ status: 409, code: "token_already_used" });
    expect(runs).toHaveLength(1);
    expect(calls.filter((c) => c === "POST /v1/tokens/consume")).toHaveLength(2);
  });

  it("refuses a call id reused for other arguments instead of running on another call's answer", async () => {
    const { client } = spiedAgent();
    const seen: unknown[] = [];
    const search = guard(client, "search.web", (args: { q: string }) => seen.push(args));
    const runId = `run-${randomUUID()}`;
    await search({ q: "first" }, { runId, callId: "s1" });
    const error = await rejection(search({ q: "second" }, { runId, callId: "s1" }));
    expect(error).toBeInstanceOf(CountersignError);
    expect(error).toMatchObject({ code: "idempotency_mismatch", retryable: false });
    const drop = guard(client, "db.drop", () => seen.push("dropped"));
    expect(await rejection(drop({ q: "first" }, { runId, callId: "s1" }))).toMatchObject({
      code: "idempotency_mismatch",
    });
    expect(seen).toEqual([{ q: "first" }]);
  });

  it("stops waiting when the caller aborts", async () => {
    const { client } = spiedAgent();
    const { runs, send } = paymentTool();
    const pay = guard(client, "payments.send", send);
    const runId = `run-${randomUUID()}`;
    const controller = new AbortController();
    const result = rejection(
      pay({ to: "acct-7", amount: 2 }, { runId, callId: "pay-1", signal: controller.signal }),
    );
    await pendingRequest(runId);
    controller.abort(new Error("shutting down"));
    expect(await result).toMatchObject({ message: "shutting down" });
    expect(runs).toHaveLength(0);
  });

  it("refuses a call without a run id", async () => {
    const { client } = spiedAgent();
    const search = guard(client, "search.web", () => "x");
    await expect(search({}, { runId: "" })).rejects.toThrow(TypeError);
  });
});
