// What webhooks send over HTTP: every event type with its resource, to subscribed endpoints and to
// request callbacks, signed per Standard Webhooks. Shared setup is in http-test-setup.ts.

import { createPublicKey, verify } from "node:crypto";
import { verifyWebhook } from "@countersign/sdk";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { STORAGE_KINDS } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";
import { type Event, parse, useWebhooksHttp, waitForDeliveries, waitForDelivery } from "./http-test-setup.ts";
import type { ReceivedWebhook } from "./testing.ts";

describe.each(STORAGE_KINDS)("webhook events and request callbacks over HTTP (%s)", (storage) => {
  const w = useWebhooksHttp(storage);
  const { register, createRequest, approve, onPath } = w;

  it("refuses a request whose callback_url points inside the network", async () => {
    const { s, agent } = w;
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
    const { s, receiver } = w;
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
    const { s, agent, receiver } = w;
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
});
