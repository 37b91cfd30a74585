import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../server/src/testing/harness.ts";
import { argsHash } from "./approval-token.ts";
import { CountersignClient } from "./client.ts";
import { CountersignError } from "./errors.ts";

/* The client against a real server (SQLite in a temp directory): requests, cases, audit, keys, errors. */

let server: TestServer;
let admin: CountersignClient;
let agent: CountersignClient;
let reviewer: CountersignClient;

beforeAll(async () => {
  server = await startTestServer();
  admin = new CountersignClient({ baseUrl: server.url, apiKey: server.adminKey });
  agent = new CountersignClient({ baseUrl: server.url, apiKey: await server.createKey("agent") });
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

describe("createRequest", () => {
  it("creates a pending request with parsed dates and the tool's args hash", async () => {
    const { request, replayed } = await agent.createRequest({
      question: "Refund $120 to order 881?",
      tool: { name: "payments.refund", args: { order: 881, amount: 120 } },
      ttl_seconds: 3600,
      priority: "high",
    });
    expect(replayed).toBe(false);
    expect(request.id).toMatch(/^req_/);
    expect(request.status).toBe("pending");
    expect(request.type).toBe("approval");
    expect(request.priority).toBe("high");
    expect(request.created_at).toBeInstanceOf(Date);
    expect(request.updated_at).toBeInstanceOf(Date);
    expect(request.expires_at).toBeInstanceOf(Date);
    expect(Math.abs(Date.now() - request.created_at.getTime())).toBeLessThan(60_000);
    expect((request.expires_at as Date).getTime() - request.created_at.getTime()).toBe(3_600_000);
    // The SDK computes the same hash offline, which is what approval-token verification relies on.
    expect(request.tool?.args_hash).toBe(await argsHash({ amount: 120, order: 881 }));
    expect(request.response).toBeNull();
  });

  it("replays an identical create with the same external_request_id, and refuses a different body", async () => {
    const external_request_id = `ext-${randomUUID()}`;
    const first = await agent.createRequest({ question: "Deploy to prod?", external_request_id });
    const again = await agent.createRequest({ question: "Deploy to prod?", external_request_id });
    expect(first.replayed).toBe(false);
    expect(again.replayed).toBe(true);
    expect(again.request.id).toBe(first.request.id);

    const error = await failure(() =>
      agent.createRequest({ question: "Deploy to staging?", external_request_id }),
    );
    expect(error.status).toBe(409);
    expect(error.code).toBe("idempotency_mismatch");
    expect(error.retryable).toBe(false);
    expect(error.requestId).toBeTruthy();
  });

  it("reports a refused body as 400 with field errors", async () => {
    const error = await failure(() =>
      agent.createRequest({ question: "x", ttl_seconds: 0, bogus: true } as never),
    );
    expect(error.status).toBe(400);
    expect(error.code).toBe("invalid_request");
    expect(error.retryable).toBe(false);
    expect(error.errors).toEqual(
      expect.arrayContaining([
        { path: "/bogus", message: "unknown field" },
        expect.objectContaining({ path: "/ttl_seconds" }),
      ]),
    );
    expect(error.problem?.status).toBe(400);
  });

  it("reports a rule the schema cannot express (question or title) as 400 with its field", async () => {
    const error = await failure(() => agent.createRequest({ priority: "low" }));
    expect(error.status).toBe(400);
    expect(error.errors).toEqual([{ path: "/question", message: "either question or title is required" }]);
  });
});

describe("reading requests", () => {
  it("gets a request by id, and 404s an unknown one", async () => {
    const { request } = await agent.createRequest({ title: "Rotate credentials" });
    const fetched = await agent.getRequest(request.id);
    expect(fetched.id).toBe(request.id);
    expect(fetched.title).toBe("Rotate credentials");
    expect(fetched.created_at.getTime()).toBe(request.created_at.getTime());

    const error = await failure(() => agent.getRequest("req_doesnotexist"));
    expect(error.status).toBe(404);
    expect(error.code).toBe("not_found");
  });

  it("lists one page with a cursor, and iterates every page newest first", async () => {
    const correlation_id = `run-${randomUUID()}`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await agent.createRequest({ question: `step ${i}?`, correlation_id })).request.id);
    }
    const first = await agent.listRequests({ correlationId: correlation_id, limit: 2 });
    expect(first.data.map((r) => r.id)).toEqual([ids[4], ids[3]]);
    expect(first.next_cursor).not.toBeNull();
    const second = await agent.listRequests({
      correlationId: correlation_id,
      limit: 2,
      cursor: first.next_cursor as string,
    });
    expect(second.data.map((r) => r.id)).toEqual([ids[2], ids[1]]);

    const all: string[] = [];
    for await (const request of agent.iterateRequests({ correlationId: correlation_id, limit: 2 })) {
      expect(request.created_at).toBeInstanceOf(Date);
      all.push(request.id);
    }
    expect(all).toEqual([...ids].reverse());

    const pending = await agent.listRequests({ correlationId: correlation_id, status: "approved" });
    expect(pending).toEqual({ data: [], next_cursor: null });
  });
});

describe("respond and cancel", () => {
  it("records a reviewer's approval with edited args, with dates parsed down to the review", async () => {
    const { request } = await agent.createRequest({
      question: "Send the email?",
      tool: { name: "email.send", args: { to: "a@example.com" } },
    });
    const decided = await reviewer.respond(request.id, {
      approved: true,
      comment: "fixed the address",
      modified_args: { to: "b@example.com" },
    });
    expect(decided.status).toBe("approved");
    expect(decided.response?.decided_at).toBeInstanceOf(Date);
    expect(decided.response?.modified_args).toEqual({ to: "b@example.com" });
    const [review] = decided.response?.reviews ?? [];
    expect(review?.created_at).toBeInstanceOf(Date);
    expect(review?.decision).toBe("approve");
    expect(review?.comment).toBe("fixed the address");

    const again = await failure(() => reviewer.respond(request.id, { approved: false }));
    expect(again.status).toBe(409);
    expect(again.code).toBe("already_decided");
  });

  it("cancels a pending request with a reason", async () => {
    const { request } = await agent.createRequest({ question: "Archive the bucket?" });
    const cancelled = await agent.cancel(request.id, "the run was stopped");
    expect(cancelled.status).toBe("cancelled");
    expect(cancelled.cancellation?.reason).toBe("the run was stopped");
    expect(cancelled.cancellation?.by?.role).toBe("agent");

    const { request: other } = await agent.createRequest({ question: "Archive another?" });
    expect((await agent.cancel(other.id)).cancellation?.reason).toBeNull();
  });

  it("refuses a reviewer cancelling (403) and an agent responding (403)", async () => {
    const { request } = await agent.createRequest({ question: "Wipe the cache?" });
    const byReviewer = await failure(() => reviewer.cancel(request.id));
    expect(byReviewer.status).toBe(403);
    expect(byReviewer.code).toBe("forbidden");
    const byAgent = await failure(() => agent.respond(request.id, { approved: true }));
    expect(byAgent.status).toBe(403);
  });
});

describe("actions, cases and audit", () => {
  it("logs an action and shows it in the case with the request and a timeline", async () => {
    const correlation_id = `case-${randomUUID()}`;
    const { request } = await agent.createRequest({ question: "Post the reply?", correlation_id });
    const logged = await agent.logAction({
      action: "slack.message_posted",
      summary: "Posted the approved reply",
      correlation_id,
      in_reply_to: { type: "request", id: request.id },
      severity: "notice",
      metadata: { channel: "#support" },
    });
    expect(logged.id).toMatch(/^act_/);
    expect(logged.created_at).toBeInstanceOf(Date);
    expect(logged.in_reply_to).toEqual({ type: "request", id: request.id });

    const view = await agent.getCase(correlation_id);
    expect(view.correlation_id).toBe(correlation_id);
    expect(view.requests.map((r) => r.id)).toEqual([request.id]);
    expect(view.actions.map((a) => a.id)).toEqual([logged.id]);
    expect(view.timeline.map((e) => e.kind)).toEqual(
      expect.arrayContaining(["request.created", "action.logged"]),
    );
    for (const entry of view.timeline) {
      expect(entry.at).toBeInstanceOf(Date);
      expect(entry.at.toISOString()).toBe(entry.at_text);
    }
  });

  it("pages through the audit log and verifies the chain (admin)", async () => {
    const firstPage = await admin.listAudit({ limit: 3 });
    expect(firstPage.data).toHaveLength(3);
    expect(firstPage.data.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(firstPage.next_after_seq).toBe(3);
    const next = await admin.listAudit({ afterSeq: 3, limit: 1 });
    expect(next.data[0]?.seq).toBe(4);
    expect(next.data[0]?.prev_hash).toBe(firstPage.data[2]?.hash);

    const seqs: number[] = [];
    for await (const entry of admin.iterateAudit({ limit: 7 })) seqs.push(entry.seq);
    expect(seqs.length).toBeGreaterThan(7);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));

    const verdict = await admin.verifyAudit();
    expect(verdict.ok).toBe(true);
    expect(verdict.entries).toBeGreaterThanOrEqual(seqs.length);
  });

  it("refuses the audit log to an agent key with 403", async () => {
    const error = await failure(() => agent.listAudit());
    expect(error.status).toBe(403);
    expect(error.code).toBe("forbidden");
  });
});

describe("keys", () => {
  it("creates, lists and revokes a key; the revoked key then gets 401", async () => {
    const created = await admin.createKey({ role: "agent", name: "short-lived" });
    expect(created.secret).toMatch(/^cs_agent_/);
    expect(created.key.created_at).toBeInstanceOf(Date);
    expect(created.key.revoked_at).toBeNull();
    const shortLived = new CountersignClient({ baseUrl: server.url, apiKey: created.secret });
    await shortLived.listRequests();

    expect((await admin.listKeys()).map((k) => k.id)).toContain(created.key.id);
    const revoked = await admin.revokeKey(created.key.id);
    expect(revoked.revoked_at).toBeInstanceOf(Date);
    expect((await admin.listKeys()).map((k) => k.id)).not.toContain(created.key.id);
    expect((await admin.listKeys({ includeRevoked: true })).map((k) => k.id)).toContain(created.key.id);

    const error = await failure(() => shortLived.listRequests());
    expect(error.status).toBe(401);
    expect(error.code).toBe("unauthorized");
    expect(error.retryable).toBe(false);
  });

  it("gives an unknown key 401 and a non-admin 403 on key management", async () => {
    const stranger = new CountersignClient({ baseUrl: server.url, apiKey: `cs_agent_${"x".repeat(43)}` });
    expect((await failure(() => stranger.getRequest("req_x"))).status).toBe(401);
    expect((await failure(() => reviewer.listKeys())).status).toBe(403);
  });
});

describe("agents' scope", () => {
  it("hides another agent's request as 404, not 403", async () => {
    const other = new CountersignClient({ baseUrl: server.url, apiKey: await server.createKey("agent") });
    const { request } = await agent.createRequest({ question: "Mine?" });
    expect((await failure(() => other.getRequest(request.id))).status).toBe(404);
    expect((await other.listRequests()).data.map((r) => r.id)).not.toContain(request.id);
  });
});
