import { createPublicKey, verify } from "node:crypto";
import { verifyWebhook } from "@countersign/sdk";
import { Webhook } from "standardwebhooks";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { STORAGE_KINDS, startTestServer, type TestServer } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";
import type { DeliveryResource } from "./resources.ts";
import { type ReceivedWebhook, type Receiver, startReceiver } from "./testing.ts";

// Retries shortened through configuration: 4 attempts, 50–100 ms apart. Loopback allow-listed.
const CONFIG = { outboundAllowlist: ["127.0.0.1/32"], webhookRetrySchedule: [0, 0.05, 0.05, 0.1] };

interface Event {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

const parse = (hook: ReceivedWebhook) => JSON.parse(hook.body) as Event;

describe.each(STORAGE_KINDS)("webhooks over HTTP (%s)", (storage) => {
  let s: TestServer;
  let agent: string;
  let reviewer: string;
  let receiver: Receiver;

  beforeAll(async () => {
    s = await startTestServer({ storage, config: CONFIG });
    [agent, reviewer] = await Promise.all([s.createKey("agent"), s.createKey("reviewer")]);
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await s.close();
    await receiver.close();
  });
  afterEach(async () => {
    // Endpoints of one test must not receive the next test's events.
    const list = await call<{ data: Array<{ id: string }> }>(s.url, "GET", "/v1/webhooks", {
      key: s.adminKey,
    });
    for (const e of list.body.data) await call(s.url, "DELETE", `/v1/webhooks/${e.id}`, { key: s.adminKey });
    receiver.setHandler(() => ({ status: 204 }));
  });

  const register = async (path: string, events: string[], extra: Record<string, unknown> = {}) => {
    const res = await call<{ id: string; secret: string; public_key: string | null }>(
      s.url,
      "POST",
      "/v1/webhooks",
      {
        key: s.adminKey,
        body: { url: `${receiver.url}${path}`, events, ...extra },
      },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  };

  const createRequest = async (body: Record<string, unknown> = {}) => {
    const res = await call<{ id: string }>(s.url, "POST", "/v1/requests", {
      key: agent,
      body: { question: "Ship it?", ...body },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id;
  };

  const approve = async (id: string) => {
    const res = await call(s.url, "POST", `/v1/requests/${id}/respond`, {
      key: reviewer,
      body: { approved: true },
    });
    expect(res.status).toBe(200);
  };

  const onPath = (path: string) => receiver.received.filter((r) => r.path === path);

  it("registers an endpoint, shows its secret once, and lists it without", async () => {
    const created = await register("/reg", ["request.decided", "govern.denied"], {
      description: "ops bridge",
    });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(created.id).toMatch(/^whk_/);
    const list = await call<{ data: Array<Record<string, unknown>> }>(s.url, "GET", "/v1/webhooks", {
      key: s.adminKey,
    });
    const listed = list.body.data.find((e) => e.id === created.id);
    expect(listed).toMatchObject({ events: ["request.decided", "govern.denied"], description: "ops bridge" });
    expect(JSON.stringify(list.body)).not.toContain(created.secret);
    const one = await call(s.url, "GET", `/v1/webhooks/${created.id}`, { key: s.adminKey });
    expect(one.body).not.toHaveProperty("secret");
  });

  it("is admin-only", async () => {
    const res = await call(s.url, "GET", "/v1/webhooks", { key: agent });
    expect(res.status).toBe(403);
    const dl = await call(s.url, "GET", "/v1/webhooks/deliveries", { key: reviewer });
    expect(dl.status).toBe(403);
  });

  it("refuses internal and non-http(s) targets with a 400 that says why", async () => {
    const cases: Array<[string, RegExp]> = [
      ["http://10.1.2.3/hook", /10\.1\.2\.3 is a private address/],
      ["http://169.254.169.254/latest/meta-data", /cloud metadata/],
      ["http://[::1]:8080/x", /loopback/],
      ["http://192.168.0.10/x", /private/],
      ["http://[fe80::1]/x", /link-local/],
      ["http://224.0.0.1/x", /multicast/],
      ["http://[::ffff:10.0.0.1]/x", /private/],
      ["http://metadata.google.internal/computeMetadata/v1/", /metadata/],
    ];
    for (const [url, reason] of cases) {
      const res = await call<{ detail: string; errors: Array<{ path: string }> }>(
        s.url,
        "POST",
        "/v1/webhooks",
        {
          key: s.adminKey,
          body: { url, events: ["request.decided"] },
        },
      );
      expect(res.status, url).toBe(400);
      expect(res.body.detail, url).toMatch(reason);
      expect(res.body.errors[0]?.path).toBe("/url");
    }
    const ftp = await call(s.url, "POST", "/v1/webhooks", {
      key: s.adminKey,
      body: { url: "ftp://example.org/x", events: ["request.decided"] },
    });
    expect(ftp.status).toBe(400);
    const badEvent = await call(s.url, "POST", "/v1/webhooks", {
      key: s.adminKey,
      body: { url: `${receiver.url}/x`, events: ["request.approved"] },
    });
    expect(badEvent.status).toBe(400);
  });

  it("refuses a request whose callback_url points inside the network", async () => {
    const res = await call<{ detail: string; errors: Array<{ path: string }> }>(
      s.url,
      "POST",
      "/v1/requests",
      {
        key: agent,
        body: { question: "q", callback_url: "http://169.254.169.254/latest/meta-data/iam" },
      },
    );
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/callback_url refused: 169\.254\.169\.254 is a cloud metadata address/);
    expect(res.body.errors[0]?.path).toBe("/callback_url");
  });

  it("delivers a decision to the subscribed endpoint and the request's callback_url, signed per Standard Webhooks", async () => {
    const endpoint = await register("/decided", ["request.decided"]);
    const signing = await call<{ secret: string; public_key: string }>(
      s.url,
      "GET",
      "/v1/webhooks/callback-signing",
      { key: s.adminKey },
    );
    expect(signing.body.secret).toMatch(/^whsec_/);
    const id = await createRequest({ callback_url: `${receiver.url}/cb?token=abc` });
    await approve(id);
    await receiver.waitFor(() => onPath("/decided").length === 1 && onPath("/cb?token=abc").length === 1);

    const [hook] = onPath("/decided") as [ReceivedWebhook];
    const [cb] = onPath("/cb?token=abc") as [ReceivedWebhook];
    // The independent reference implementation accepts both signatures.
    const verified = new Webhook(endpoint.secret).verify(hook.body, hook.headers) as Event;
    expect(verified.type).toBe("request.decided");
    expect(verified.data).toMatchObject({
      id,
      status: "approved",
      callback_url: `${receiver.url}/cb?token=abc`,
    });
    expect(verified.data.response).toMatchObject({ approved: true });
    expect(Date.parse(verified.timestamp)).not.toBeNaN();
    expect(new Webhook(signing.body.secret).verify(cb.body, cb.headers)).toEqual(verified);
    // Another secret does not verify.
    expect(() => new Webhook(signing.body.secret).verify(hook.body, hook.headers)).toThrow();
    // So does the SDK's verifier, with the secret or (for the callback) the public key alone.
    const sdkEvent = await verifyWebhook(hook.headers, hook.body, endpoint.secret);
    expect(sdkEvent).toMatchObject({ id: hook.headers["webhook-id"], type: "request.decided" });
    if (sdkEvent.type !== "request.decided") throw new Error("narrowing");
    expect(sdkEvent.data.response?.decided_at).toBeInstanceOf(Date);
    await expect(verifyWebhook(cb.headers, cb.body, signing.body.public_key)).resolves.toMatchObject({
      data: { id, status: "approved" },
    });
    await expect(verifyWebhook(hook.headers, `${hook.body} `, endpoint.secret)).rejects.toMatchObject({
      code: "invalid_signature",
    });
    // One message, one id, whoever receives it.
    expect(hook.headers["webhook-id"]).toMatch(/^msg_\d+_[0-9a-f]{16}$/);
    expect(cb.headers["webhook-id"]).toBe(hook.headers["webhook-id"]);
    expect(hook.headers["content-type"]).toBe("application/json");
    // Callbacks also carry an Ed25519 signature, verifiable with the public key alone.
    const v1a = cb.headers["webhook-signature"]?.split(" ").find((p) => p.startsWith("v1a,"));
    expect(v1a).toBeDefined();
    const publicKey = createPublicKey({
      key: {
        kty: "OKP",
        crv: "Ed25519",
        x: Buffer.from(signing.body.public_key.slice(5), "base64").toString("base64url"),
      },
      format: "jwk",
    });
    const content = `${cb.headers["webhook-id"]}.${cb.headers["webhook-timestamp"]}.${cb.body}`;
    expect(
      verify(null, Buffer.from(content), publicKey, Buffer.from((v1a as string).slice(4), "base64")),
    ).toBe(true);

    await waitForDelivery(s, id, (x) => x.status === "delivered");
    const deliveries = await waitForDeliveries(s, id, (all) => all.every((d) => d.status === "delivered"));
    expect(deliveries).toHaveLength(2);
    expect(deliveries.map((d) => d.target).sort()).toEqual(["callback", "endpoint"]);
    for (const d of deliveries) {
      expect(d.status).toBe("delivered");
      expect(d.attempts).toHaveLength(1);
      expect(d.attempts[0]).toMatchObject({ attempt: 1, outcome: "delivered", status_code: 204 });
    }
    // Each outcome is audited, and delivery bookkeeping does not itself become events.
    const audit = await call<{ data: Array<{ kind: string; data: Record<string, unknown> }> }>(
      s.url,
      "GET",
      "/v1/audit?limit=1000",
      { key: s.adminKey },
    );
    const delivered = audit.body.data.filter((e) => e.kind === "webhook.delivered" && e.data.event_type);
    expect(delivered.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(delivered)).not.toContain("token=abc"); // audit keeps URLs without queries
  });

  it("sends every subscribed event type with the resource it is about", async () => {
    const all = await register("/all", [
      "request.created",
      "request.cancelled",
      "request.timed_out",
      "govern.denied",
      "action.logged",
      "kill_switch.changed",
    ]);
    const expiring = await createRequest({ ttl_seconds: 1, callback_url: `${receiver.url}/expired-cb` });
    const id = await createRequest();
    await call(s.url, "POST", `/v1/requests/${id}/cancel`, { key: agent, body: { reason: "not needed" } });
    const action = await call<{ id: string }>(s.url, "POST", "/v1/actions", {
      key: agent,
      body: { action: "email.sent", summary: "sent the weekly report" },
    });
    const ks = await call<{ id: string }>(s.url, "POST", "/v1/kill-switch", {
      key: s.adminKey,
      body: { engaged: true, scope: "run", run_id: "run-webhook-test", reason: "drill" },
    });
    expect(ks.status).toBeLessThan(300);
    const denied = await call<{ id: string; decision: string }>(s.url, "POST", "/v1/govern", {
      key: agent,
      body: { run_id: "run-webhook-test", tool: "db.drop", args: {} },
    });
    expect(denied.body.decision).toBe("deny");
    // created ×2, cancelled, action, kill switch, denied, timed out.
    await receiver.waitFor(() => onPath("/all").length === 7 && onPath("/expired-cb").length === 1, 15_000);
    const events = onPath("/all").map(parse);
    expect(events.find((e) => e.type === "request.created" && e.data.id === id)?.data).toMatchObject({
      status: "pending",
    });
    expect(events.find((e) => e.type === "request.cancelled")?.data).toMatchObject({
      id,
      status: "cancelled",
    });
    expect(events.find((e) => e.type === "action.logged")?.data).toMatchObject({ id: action.body.id });
    expect(events.find((e) => e.type === "kill_switch.changed")?.data).toMatchObject({ id: ks.body.id });
    expect(events.find((e) => e.type === "govern.denied")?.data).toMatchObject({
      id: denied.body.id,
      decision: "deny",
      stop_reason: "killed",
    });
    expect(events.find((e) => e.type === "request.timed_out")?.data).toMatchObject({
      id: expiring,
      status: "timed_out",
    });
    const expiredCallback = parse(onPath("/expired-cb")[0] as ReceivedWebhook);
    expect(expiredCallback).toMatchObject({ type: "request.timed_out", data: { id: expiring } });
    // Every type parses with the SDK's verifier into its typed resource.
    for (const hook of onPath("/all"))
      await expect(verifyWebhook(hook.headers, hook.body, all.secret)).resolves.toBeTruthy();
  });

  it("retries failures on the configured schedule with the same webhook-id", async () => {
    const endpoint = await register("/flaky", ["request.decided"]);
    let calls = 0;
    receiver.setHandler((hook) => {
      if (hook.path !== "/flaky") return { status: 204 };
      calls++;
      return calls <= 2 ? { status: 503, body: "busy" } : { status: 200 };
    });
    const id = await createRequest();
    await approve(id);
    await receiver.waitFor(() => onPath("/flaky").length === 3);
    const hooks = onPath("/flaky");
    expect(new Set(hooks.map((h) => h.headers["webhook-id"])).size).toBe(1);
    for (const h of hooks) expect(new Webhook(endpoint.secret).verify(h.body, h.headers)).toBeTruthy();
    const d = await waitForDelivery(s, id, (x) => x.status === "delivered");
    expect(d.attempts.map((a) => [a.outcome, a.status_code])).toEqual([
      ["failed", 503],
      ["failed", 503],
      ["delivered", 200],
    ]);
    expect(d.attempts[0]?.response).toBe("busy");
  });

  it("dead-letters exhausted deliveries, lists them with every attempt, notifies, and redrives them", async () => {
    await register("/down", ["request.decided"]);
    const watcher = await register("/watch", ["delivery.dead_lettered"]);
    receiver.setHandler((hook) => (hook.path === "/down" ? { status: 500, body: "boom" } : { status: 204 }));
    const id = await createRequest();
    await approve(id);
    const dead = await waitForDelivery(s, id, (x) => x.status === "dead");
    expect(dead.attempts).toHaveLength(4);
    expect(
      dead.attempts.every((a) => a.outcome === "failed" && a.status_code === 500 && a.error === "HTTP 500"),
    ).toBe(true);
    expect(dead.dead_lettered_at).not.toBeNull();

    const list = await call<{ data: DeliveryResource[] }>(
      s.url,
      "GET",
      "/v1/webhooks/deliveries?status=dead",
      {
        key: s.adminKey,
      },
    );
    expect(list.body.data.map((d) => d.id)).toContain(dead.id);

    // Subscribers to delivery.dead_lettered hear about it.
    await receiver.waitFor(() => onPath("/watch").length === 1);
    const [notice] = onPath("/watch") as [ReceivedWebhook];
    const event = new Webhook(watcher.secret).verify(notice.body, notice.headers) as Event;
    expect(event.type).toBe("delivery.dead_lettered");
    expect(event.data).toMatchObject({ id: dead.id, status: "dead", subject_id: id });

    const audit = await call<{ data: Array<{ kind: string; subject_id: string }> }>(
      s.url,
      "GET",
      "/v1/audit?limit=1000",
      { key: s.adminKey },
    );
    expect(audit.body.data.some((e) => e.kind === "webhook.dead_lettered" && e.subject_id === dead.id)).toBe(
      true,
    );

    // Redrive: sent again with the same webhook-id, from the start of the schedule.
    const firstId = onPath("/down")[0]?.headers["webhook-id"];
    receiver.setHandler(() => ({ status: 204 }));
    const redriven = await call<DeliveryResource>(
      s.url,
      "POST",
      `/v1/webhooks/deliveries/${dead.id}/redrive`,
      {
        key: s.adminKey,
      },
    );
    expect(redriven.status).toBe(200);
    const delivered = await waitForDelivery(s, id, (x) => x.status === "delivered");
    expect(delivered.attempts).toHaveLength(5);
    expect(onPath("/down").at(-1)?.headers["webhook-id"]).toBe(firstId);
    const again = await call(s.url, "POST", `/v1/webhooks/deliveries/${dead.id}/redrive`, {
      key: s.adminKey,
    });
    expect(again.status).toBe(409);
  });

  it("stops retrying when the receiver answers webhook-delivery: abort-message", async () => {
    await register("/abort", ["request.decided"]);
    receiver.setHandler((hook) =>
      hook.path === "/abort"
        ? { status: 410, headers: { "webhook-delivery": "abort-message" } }
        : { status: 204 },
    );
    const id = await createRequest();
    await approve(id);
    const d = await waitForDelivery(s, id, (x) => x.status === "aborted");
    expect(d.attempts).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(onPath("/abort")).toHaveLength(1);
  });

  it("treats a redirect as a failure and never follows it", async () => {
    await register("/moved", ["request.decided"]);
    receiver.setHandler((hook) =>
      hook.path === "/moved"
        ? { status: 302, headers: { location: `${receiver.url}/elsewhere` } }
        : { status: 204 },
    );
    const id = await createRequest();
    await approve(id);
    const d = await waitForDelivery(s, id, (x) => x.status === "dead");
    expect(d.attempts[0]?.error).toMatch(/redirect refused: HTTP 302/);
    expect(onPath("/elsewhere")).toHaveLength(0);
  });

  it("rotates a secret: both sign during the grace period", async () => {
    const endpoint = await register("/rotate", ["request.decided"]);
    const rotated = await call<{ secret: string; previous_secret_expires_at: string }>(
      s.url,
      "POST",
      `/v1/webhooks/${endpoint.id}/rotate`,
      { key: s.adminKey, body: { grace_seconds: 3600 } },
    );
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(endpoint.secret);
    expect(rotated.body.previous_secret_expires_at).not.toBeNull();
    const id = await createRequest();
    await approve(id);
    await receiver.waitFor(() => onPath("/rotate").length === 1);
    const [hook] = onPath("/rotate") as [ReceivedWebhook];
    expect(hook.headers["webhook-signature"]?.split(" ")).toHaveLength(2);
    expect(new Webhook(rotated.body.secret).verify(hook.body, hook.headers)).toBeTruthy();
    expect(new Webhook(endpoint.secret).verify(hook.body, hook.headers)).toBeTruthy();

    const immediate = await call<{ secret: string }>(s.url, "POST", `/v1/webhooks/${endpoint.id}/rotate`, {
      key: s.adminKey,
      body: { grace_seconds: 0 },
    });
    const id2 = await createRequest();
    await approve(id2);
    await receiver.waitFor(() => onPath("/rotate").length === 2);
    const second = onPath("/rotate")[1] as ReceivedWebhook;
    expect(second.headers["webhook-signature"]?.split(" ")).toHaveLength(1);
    expect(new Webhook(immediate.body.secret).verify(second.body, second.headers)).toBeTruthy();
    expect(() => new Webhook(rotated.body.secret).verify(second.body, second.headers)).toThrow();
  });

  it("signs Ed25519 endpoints with v1 and v1a", async () => {
    const endpoint = await register("/ed", ["request.decided"], { signing: "ed25519" });
    expect(endpoint.public_key).toMatch(/^whpk_/);
    const id = await createRequest();
    await approve(id);
    await receiver.waitFor(() => onPath("/ed").length === 1);
    const [hook] = onPath("/ed") as [ReceivedWebhook];
    const parts = hook.headers["webhook-signature"]?.split(" ") ?? [];
    expect(parts.map((p) => p.split(",")[0])).toEqual(["v1", "v1a"]);
    expect(new Webhook(endpoint.secret).verify(hook.body, hook.headers)).toBeTruthy();
  });

  it("cancels pending deliveries of a deleted endpoint", async () => {
    const endpoint = await register("/gone", ["request.decided"]);
    receiver.setHandler((hook) => (hook.path === "/gone" ? { status: 500 } : { status: 204 }));
    const id = await createRequest();
    await approve(id);
    await receiver.waitFor(() => onPath("/gone").length >= 1);
    const del = await call(s.url, "DELETE", `/v1/webhooks/${endpoint.id}`, { key: s.adminKey });
    expect(del.status).toBe(200);
    const d = await waitForDelivery(s, id, (x) => x.status === "cancelled");
    const seen = onPath("/gone").length;
    await new Promise((r) => setTimeout(r, 300));
    expect(onPath("/gone").length).toBe(seen);
    expect(d.status).toBe("cancelled");
    const missing = await call(s.url, "GET", `/v1/webhooks/${endpoint.id}`, { key: s.adminKey });
    expect(missing.status).toBe(404);
  });
});

async function waitForDeliveries(
  s: TestServer,
  subjectId: string,
  done: (all: DeliveryResource[]) => boolean,
  timeoutMs = 10_000,
): Promise<DeliveryResource[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await call<{ data: DeliveryResource[] }>(
      s.url,
      "GET",
      `/v1/webhooks/deliveries?subject_id=${subjectId}`,
      { key: s.adminKey },
    );
    if (done(res.body.data)) return res.body.data;
    if (Date.now() > deadline)
      throw new Error(`deliveries of ${subjectId}: ${JSON.stringify(res.body.data)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function waitForDelivery(
  s: TestServer,
  subjectId: string,
  done: (d: DeliveryResource) => boolean,
  timeoutMs = 10_000,
): Promise<DeliveryResource> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await call<{ data: DeliveryResource[] }>(
      s.url,
      "GET",
      `/v1/webhooks/deliveries?subject_id=${subjectId}`,
      { key: s.adminKey },
    );
    const found = res.body.data.find((d) => d.target === "endpoint" && done(d));
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`delivery of ${subjectId}: ${JSON.stringify(res.body.data)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
