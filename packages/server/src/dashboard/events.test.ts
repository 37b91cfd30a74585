import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STORAGE_KINDS, startTestServer, type TestServer } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";
import { openSse, type SseMessage } from "./sse-client.ts";
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

  it("closes open streams when the server shuts down", async () => {
    const other = await startTestServer({ storage });
    const sse = await openSse(`${other.url}/v1/events`, { authorization: `Bearer ${other.adminKey}` });
    await sse.next((m) => m.event === "ready");
    await other.close();
    await sse.ended;
    await expect(sse.next((m) => m.event === "message")).rejects.toThrow("ended");
  });
});
