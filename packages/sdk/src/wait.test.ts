import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../server/src/testing/harness.ts";
import { CountersignClient } from "./client.ts";
import { ApprovalRejectedError, ApprovalTimeoutError, RequestCancelledError } from "./outcome-errors.ts";
import type { FetchLike } from "./transport.ts";

/*
 * Waiting against a real server. No test sleeps: each starts the wait, does what a reviewer (or the
 * expiry worker) would, and awaits the outcome. A spy on fetch shows which long-polls went out.
 */

let server: TestServer;
let agentKey: string;
let reviewer: CountersignClient;

beforeAll(async () => {
  server = await startTestServer();
  agentKey = await server.createKey("agent");
  reviewer = new CountersignClient({ baseUrl: server.url, apiKey: await server.createKey("reviewer") });
});

afterAll(async () => {
  await server?.close();
});

interface Spy {
  client: CountersignClient;
  /** The URLs of the long-polls sent so far. */
  waits: URL[];
  /** Resolves when the next long-poll has been handed to fetch. */
  nextWait(): Promise<URL>;
}

function spiedAgent(): Spy {
  const waits: URL[] = [];
  let notify: ((url: URL) => void) | undefined;
  const fetch: FetchLike = (input, init) => {
    const url = new URL(input);
    if (url.pathname.endsWith("/wait")) {
      waits.push(url);
      notify?.(url);
      notify = undefined;
    }
    return globalThis.fetch(input, init);
  };
  const client = new CountersignClient({ baseUrl: server.url, apiKey: agentKey, fetch });
  return {
    client,
    waits,
    nextWait: () =>
      new Promise((resolve) => {
        notify = resolve;
      }),
  };
}

describe("waitForDecision", () => {
  it("returns as soon as a reviewer responds, from a single held long-poll", async () => {
    const { client, waits, nextWait } = spiedAgent();
    const { request } = await client.createRequest({ question: "Ship it?" });
    const started = performance.now();
    const polled = nextWait();
    const waiting = client.waitForDecision(request.id, { pollSeconds: 30 });
    await polled;
    await reviewer.respond(request.id, { approved: true, comment: "go" });
    const decided = await waiting;

    expect(decided.status).toBe("approved");
    expect(decided.response?.comment).toBe("go");
    expect(decided.response?.decided_at).toBeInstanceOf(Date);
    // Far below the 30 s hold: the decision woke the held call rather than waiting it out.
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(waits).toHaveLength(1);
    expect(waits[0]?.searchParams.get("timeout_seconds")).toBe("30");
  });

  it("returns a request that is already decided without holding", async () => {
    const { client } = spiedAgent();
    const { request } = await client.createRequest({ question: "Already done?" });
    await reviewer.respond(request.id, { approved: false });
    expect((await client.waitForDecision(request.id)).status).toBe("rejected");
  });

  it("throws ApprovalTimeoutError with the pending request when its own timeout passes", async () => {
    const { client, waits } = spiedAgent();
    const { request } = await client.createRequest({ question: "Nobody will answer this" });
    const started = performance.now();
    const error = await client.waitForDecision(request.id, { timeoutMs: 400, pollSeconds: 30 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    const elapsed = performance.now() - started;

    expect(error).toBeInstanceOf(ApprovalTimeoutError);
    const timeout = error as ApprovalTimeoutError;
    expect(timeout.reason).toBe("wait_timeout");
    expect(timeout.retryable).toBe(true);
    expect(timeout.request.id).toBe(request.id);
    expect(timeout.request.status).toBe("pending");
    expect(elapsed).toBeGreaterThanOrEqual(350);
    expect(elapsed).toBeLessThan(5_000);
    // One held call (and at most one more for the last milliseconds), not a polling loop.
    expect(waits.length).toBeLessThanOrEqual(2);
    // The server was asked to hold only as long as the wait had left, never a whole poll.
    for (const url of waits) expect(Number(url.searchParams.get("timeout_seconds"))).toBeLessThanOrEqual(0.4);
  });

  it("reports the current state once with timeoutMs: 0", async () => {
    const { client } = spiedAgent();
    const { request } = await client.createRequest({ question: "Now or never" });
    await expect(client.waitForDecision(request.id, { timeoutMs: 0 })).rejects.toBeInstanceOf(
      ApprovalTimeoutError,
    );
  });

  it("stops at once, with the signal's reason, when aborted mid-poll", async () => {
    const { client, nextWait } = spiedAgent();
    const { request } = await client.createRequest({ question: "Abort me" });
    const controller = new AbortController();
    const polled = nextWait();
    const started = performance.now();
    const waiting = client.waitForDecision(request.id, { signal: controller.signal, pollSeconds: 30 });
    await polled;
    controller.abort();
    const error = await waiting.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as Error).name).toBe("AbortError");
    expect(performance.now() - started).toBeLessThan(5_000);
    // Aborting the wait did not touch the request.
    expect((await client.getRequest(request.id)).status).toBe("pending");
  });

  it("refuses an already aborted signal before sending anything", async () => {
    const { client, waits } = spiedAgent();
    const reason = new Error("shutting down");
    await expect(client.waitForDecision("req_whatever", { signal: AbortSignal.abort(reason) })).rejects.toBe(
      reason,
    );
    expect(waits).toHaveLength(0);
  });

  it("rejects pollSeconds outside [1, 60]", async () => {
    const { client } = spiedAgent();
    await expect(client.waitForDecision("req_x", { pollSeconds: 61 })).rejects.toBeInstanceOf(RangeError);
    await expect(client.waitForDecision("req_x", { pollSeconds: 0.5 })).rejects.toBeInstanceOf(RangeError);
  });
});

describe("waitForApproval", () => {
  it("resolves with the approved request", async () => {
    const { client, nextWait } = spiedAgent();
    const { request } = await client.createRequest({
      question: "Delete the branch?",
      tool: { name: "git.delete_branch", args: { branch: "old" } },
    });
    const polled = nextWait();
    const waiting = client.waitForApproval(request.id);
    await polled;
    await reviewer.respond(request.id, { approved: true });
    const approved = await waiting;
    expect(approved.status).toBe("approved");
    expect(approved.tool?.name).toBe("git.delete_branch");
  });

  it("resolves with an answered decision request", async () => {
    const { client } = spiedAgent();
    const { request } = await client.createRequest({
      type: "decision",
      question: "Which plan?",
      options: [{ name: "a" }, { name: "b" }],
    });
    const waiting = client.waitForApproval(request.id);
    await reviewer.respond(request.id, { option: "b" });
    expect((await waiting).response?.option).toBe("b");
  });

  it("throws ApprovalRejectedError carrying the reviewer's comment", async () => {
    const { client, nextWait } = spiedAgent();
    const { request } = await client.createRequest({ question: "Wire $50,000?" });
    const polled = nextWait();
    const waiting = client.waitForApproval(request.id).then(
      () => undefined,
      (e: unknown) => e,
    );
    await polled;
    await reviewer.respond(request.id, { approved: false, comment: "amount is wrong" });
    const error = await waiting;
    expect(error).toBeInstanceOf(ApprovalRejectedError);
    expect((error as ApprovalRejectedError).comment).toBe("amount is wrong");
    expect((error as ApprovalRejectedError).code).toBe("approval_rejected");
    expect((error as ApprovalRejectedError).request.status).toBe("rejected");
  });

  it("throws ApprovalTimeoutError, not a rejection, when the request's TTL runs out", async () => {
    const { client } = spiedAgent();
    const { request } = await client.createRequest({ question: "Quick, yes or no?", ttl_seconds: 1 });
    const error = await client.waitForApproval(request.id, { timeoutMs: 20_000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApprovalTimeoutError);
    expect(error).not.toBeInstanceOf(ApprovalRejectedError);
    const timeout = error as ApprovalTimeoutError;
    expect(timeout.reason).toBe("request_expired");
    expect(timeout.retryable).toBe(false);
    expect(timeout.request.status).toBe("timed_out");
    expect(timeout.request.response).toBeNull();
  });

  it("throws RequestCancelledError with the reason when the request is cancelled", async () => {
    const { client, nextWait } = spiedAgent();
    const { request } = await client.createRequest({ question: "Still needed?" });
    const polled = nextWait();
    const waiting = client.waitForApproval(request.id).then(
      () => undefined,
      (e: unknown) => e,
    );
    await polled;
    await client.cancel(request.id, "superseded");
    const error = await waiting;
    expect(error).toBeInstanceOf(RequestCancelledError);
    expect((error as RequestCancelledError).reason).toBe("superseded");
  });
});
