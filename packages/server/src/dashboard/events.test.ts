import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STORAGE_KINDS, startTestServer, type TestServer } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";
import { addReviewer } from "../testing/reviewers.ts";
import { openSse, type SseMessage, type SseStream } from "./sse-client.ts";
import { createAccount } from "./testing.ts";

interface Event {
  seq: number;
  kind: string;
  subject_id: string;
  request?: { id: string; status: string };
}

const parse = (m: SseMessage) => JSON.parse(m.data) as Event;
const isKind = (kind: string) => (m: SseMessage) => m.event === "message" && parse(m).kind === kind;

describe.each(STORAGE_KINDS)("GET /v1/events (%s)", (storage) => {
  let s: TestServer;
  let agent: string;
  const previousHeartbeat = process.env.COUNTERSIGN_EVENTS_HEARTBEAT_SECONDS;

  beforeAll(async () => {
    process.env.COUNTERSIGN_EVENTS_HEARTBEAT_SECONDS = "0.05";
    s = await startTestServer({ storage });
    agent = await s.createKey("agent");
  });
  afterAll(async () => {
    if (previousHeartbeat === undefined) delete process.env.COUNTERSIGN_EVENTS_HEARTBEAT_SECONDS;
    else process.env.COUNTERSIGN_EVENTS_HEARTBEAT_SECONDS = previousHeartbeat;
    await s.close();
  });

  const stream = (key: string, headers: Record<string, string> = {}) =>
    openSse(`${s.url}/v1/events`, { authorization: `Bearer ${key}`, ...headers });
  const createRequest = async (key: string, question: string) =>
    (await call<{ id: string }>(s.url, "POST", "/v1/requests", { key, body: { question } })).body.id;

  it("needs credentials", async () => {
    const res = await call(s.url, "GET", "/v1/events");
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    const bad = await call(s.url, "GET", "/v1/events", {
      key: s.adminKey,
      headers: { "last-event-id": "not-a-number" },
    });
    expect(bad.status).toBe(400);
  });

  it("starts at the head and streams each new audit entry, with the request's current state", async () => {
    const sse = await stream(s.adminKey);
    try {
      expect(sse.status).toBe(200);
      expect(sse.headers.get("content-type")).toContain("text/event-stream");
      const ready = await sse.next((m) => m.event === "ready");
      const head = JSON.parse(ready.data) as { seq: number; resumed: boolean };
      expect(head.resumed).toBe(false);
      expect(ready.id).toBe(String(head.seq));

      const id = await createRequest(agent, "Send the refund?");
      const created = await sse.next(isKind("request.created"));
      const event = parse(created);
      expect(event.subject_id).toBe(id);
      expect(event.seq).toBeGreaterThan(head.seq);
      expect(created.id).toBe(String(event.seq));
      expect(event.request).toMatchObject({ id, status: "pending" });

      await call(s.url, "POST", `/v1/requests/${id}/respond`, { key: s.adminKey, body: { approved: true } });
      const approved = parse(await sse.next(isKind("request.approved")));
      expect(approved.request).toMatchObject({ id, status: "approved" });
    } finally {
      sse.close();
    }
  });

  it("resumes exactly after Last-Event-ID", async () => {
    const sse = await stream(s.adminKey);
    await sse.next((m) => m.event === "ready");
    const ids = [
      await createRequest(agent, "one?"),
      await createRequest(agent, "two?"),
      await createRequest(agent, "three?"),
    ];
    const seqs: number[] = [];
    for (const id of ids)
      seqs.push(parse(await sse.next((m) => m.event === "message" && parse(m).subject_id === id)).seq);
    sse.close();

    const resumed = await stream(s.adminKey, { "last-event-id": String(seqs[0]) });
    try {
      const ready = JSON.parse((await resumed.next((m) => m.event === "ready")).data) as { resumed: boolean };
      expect(ready.resumed).toBe(true);
      const first = parse(await resumed.next((m) => m.event === "message"));
      expect(first.seq).toBe((seqs[0] ?? 0) + 1);
      expect(first.subject_id).toBe(ids[1]);
      expect(parse(await resumed.next((m) => m.event === "message")).subject_id).toBe(ids[2]);
    } finally {
      resumed.close();
    }
  });

  it("shows reviewers requests but not keys or sign-ins, and agents only their own entries", async () => {
    const reviewer = await s.createKey("reviewer");
    const otherAgent = await s.createKey("agent");
    const reviewerStream = await stream(reviewer);
    const agentStream = await stream(agent);
    try {
      await reviewerStream.next((m) => m.event === "ready");
      await agentStream.next((m) => m.event === "ready");

      await s.createKey("agent", "not for reviewers"); // key.created
      const theirs = await createRequest(otherAgent, "theirs?");
      const mine = await createRequest(agent, "mine?");

      const first = parse(await reviewerStream.next((m) => m.event === "message"));
      expect(first).toMatchObject({ kind: "request.created", subject_id: theirs });
      expect(parse(await reviewerStream.next((m) => m.event === "message")).subject_id).toBe(mine);

      const own = parse(await agentStream.next((m) => m.event === "message"));
      expect(own).toMatchObject({ kind: "request.created", subject_id: mine });
    } finally {
      reviewerStream.close();
      agentStream.close();
    }
  });

  it("hides requests outside a reviewer's roles, and the governance about them", async (ctx) => {
    // Depends on reviewer routing: without `/v1/reviewers` every reviewer may see every request.
    if ((await call(s.url, "GET", "/v1/reviewers", { key: s.adminKey })).status === 404) ctx.skip();
    const person = await createAccount(s, "finance.stream@example.com", "reviewer");
    const linked = await call(s.url, "POST", "/v1/reviewers", {
      key: s.adminKey,
      body: { name: "Fin", roles: ["finance"], timezone: "UTC", key_id: person.account.key_id },
    });
    expect(linked.status).toBe(201);
    const sse = await openSse(`${s.url}/v1/events`, { cookie: person.cookie });
    try {
      await sse.next((m) => m.event === "ready");
      await call(s.url, "POST", "/v1/requests", {
        key: agent,
        body: { question: "restart?", required_role: "sre" },
      });
      const mine = (
        await call<{ id: string }>(s.url, "POST", "/v1/requests", {
          key: agent,
          body: { question: "pay?", required_role: "finance" },
        })
      ).body.id;
      const first = parse(await sse.next((m) => m.event === "message"));
      expect(first.subject_id).toBe(mine);
    } finally {
      sse.close();
    }
  });

  it("accepts a session cookie", async () => {
    const person = await createAccount(s, "stream.reader@example.com", "reviewer");
    const sse = await openSse(`${s.url}/v1/events`, { cookie: person.cookie });
    try {
      expect(sse.status).toBe(200);
      await sse.next((m) => m.event === "ready");
      const id = await createRequest(agent, "cookie?");
      expect(parse(await sse.next(isKind("request.created"))).subject_id).toBe(id);
    } finally {
      sse.close();
    }
  });

  it("sends heartbeats, and ends the stream once its key is revoked", async () => {
    const created = await call<{ key: { id: string }; secret: string }>(s.url, "POST", "/v1/keys", {
      key: s.adminKey,
      body: { role: "reviewer", name: "short-lived" },
    });
    const sse = await stream(created.body.secret);
    await sse.next((m) => m.event === "ready");
    while (sse.comments.length === 0) await new Promise((r) => setTimeout(r, 20));
    expect(sse.comments[0]).toBe(": heartbeat");
    await call(s.url, "DELETE", `/v1/keys/${created.body.key.id}`, { key: s.adminKey });
    const end = await sse.next((m) => m.event === "end");
    expect(JSON.parse(end.data)).toEqual({ reason: "unauthorized" });
    await sse.ended;
  });

  it("ends a busy stream within about a heartbeat once its key is revoked", async () => {
    const created = await call<{ key: { id: string }; secret: string }>(s.url, "POST", "/v1/keys", {
      key: s.adminKey,
      body: { role: "reviewer", name: "busy and short-lived" },
    });
    const sse = await stream(created.body.secret);
    await sse.next((m) => m.event === "ready");
    // Events keep flowing far more often than the 50 ms heartbeat: the stream is never idle.
    let flowing = true;
    const traffic = (async () => {
      while (flowing) {
        await createRequest(agent, "busy?");
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    try {
      await sse.next(isKind("request.created"));
      const revokedAt = performance.now();
      const revoked = await call(s.url, "DELETE", `/v1/keys/${created.body.key.id}`, { key: s.adminKey });
      expect(revoked.status).toBe(200);
      const ending = sse.next((m) => m.event === "end");
      ending.catch(() => {});
      const end = await Promise.race([ending, new Promise<null>((r) => setTimeout(() => r(null), 3000))]);
      const elapsed = performance.now() - revokedAt;
      expect(end, "the stream was still open 3 s after its key was revoked").not.toBeNull();
      expect(JSON.parse(end?.data ?? "{}")).toEqual({ reason: "unauthorized" });
      expect(elapsed).toBeLessThan(1000);
      await sse.ended;
    } finally {
      flowing = false;
      await traffic;
      sse.close();
    }
  });

  it("hides from a reviewer the activity about a request they may not see", async (ctx) => {
    if ((await call(s.url, "GET", "/v1/reviewers", { key: s.adminKey })).status === 404) ctx.skip();
    const ops = await s.createKey("reviewer", "ops reviewer");
    await addReviewer(s, { key: ops, name: "Olga", roles: ["ops"] });
    const financeOnly = (
      await call<{ id: string }>(s.url, "POST", "/v1/requests", {
        key: agent,
        body: { question: "wire the funds?", required_roles: ["finance"] },
      })
    ).body.id;
    const opsRequest = (
      await call<{ id: string }>(s.url, "POST", "/v1/requests", {
        key: agent,
        body: { question: "restart?", required_roles: ["ops"] },
      })
    ).body.id;
    const sse = await stream(ops);
    try {
      await sse.next((m) => m.event === "ready");
      const log = async (body: Record<string, unknown>) => {
        const res = await call<{ id: string }>(s.url, "POST", "/v1/actions", { key: agent, body });
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        return res.body.id;
      };
      await log({
        action: "payments.send",
        summary: "sent the wire",
        in_reply_to: { type: "request", id: financeOnly },
      });
      const replyToOps = await log({
        action: "service.restart",
        summary: "restarted",
        in_reply_to: { type: "request", id: opsRequest },
      });
      const plain = await log({ action: "note", summary: "nothing to do with either" });
      const seen = [
        parse(await sse.next(isKind("action.logged"))),
        parse(await sse.next(isKind("action.logged"))),
      ];
      expect(seen.map((e) => [e.kind, e.subject_id])).toEqual([
        ["action.logged", replyToOps],
        ["action.logged", plain],
      ]);
    } finally {
      sse.close();
    }
  });

  it("caps the event streams one caller may hold open, with 429 problem+json past it", async () => {
    const previous = process.env.COUNTERSIGN_EVENTS_MAX_STREAMS_PER_CALLER;
    process.env.COUNTERSIGN_EVENTS_MAX_STREAMS_PER_CALLER = "2";
    const other = await startTestServer({ storage });
    if (previous === undefined) delete process.env.COUNTERSIGN_EVENTS_MAX_STREAMS_PER_CALLER;
    else process.env.COUNTERSIGN_EVENTS_MAX_STREAMS_PER_CALLER = previous;
    const open: SseStream[] = [];
    try {
      const reviewer = await other.createKey("reviewer");
      const someoneElse = await other.createKey("reviewer");
      const at = (key: string) => openSse(`${other.url}/v1/events`, { authorization: `Bearer ${key}` });
      for (let i = 0; i < 2; i++) {
        const sse = await at(reviewer);
        open.push(sse);
        expect(sse.status).toBe(200);
        await sse.next((m) => m.event === "ready");
      }
      const third = new AbortController();
      const refused = await fetch(`${other.url}/v1/events`, {
        headers: { authorization: `Bearer ${reviewer}` },
        signal: third.signal,
      });
      // Without a cap this would be a live stream: stop it rather than read it.
      if (refused.status !== 429) third.abort();
      expect(refused.status).toBe(429);
      expect(refused.headers.get("content-type")).toContain("application/problem+json");
      expect(await refused.json()).toMatchObject({ code: "too_many_streams", retryable: true });
      // Another caller is not affected.
      const theirs = await at(someoneElse);
      open.push(theirs);
      expect(theirs.status).toBe(200);
      // Closing a stream frees its place.
      open.shift()?.close();
      for (let tries = 0; ; tries++) {
        const again = await at(reviewer);
        if (again.status === 200) {
          open.push(again);
          break;
        }
        again.close();
        expect(again.status).toBe(429);
        expect(tries).toBeLessThan(100);
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      for (const sse of open) sse.close();
      await other.close();
    }
  });

  it("closes open streams when the server shuts down", async () => {
    const other = await startTestServer({ storage });
    const sse = await openSse(`${other.url}/v1/events`, { authorization: `Bearer ${other.adminKey}` });
    await sse.next((m) => m.event === "ready");
    await other.close();
    await sse.ended;
    await expect(sse.next((m) => m.event === "message")).rejects.toThrow("ended");
  });
});
