// Webhook endpoints over HTTP: registration and its checks, admin-only access, secret rotation,
// Ed25519 signing and deletion. Shared setup is in http-test-setup.ts.

import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { STORAGE_KINDS } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";
import { useWebhooksHttp, waitForDelivery } from "./http-test-setup.ts";
import type { ReceivedWebhook } from "./testing.ts";

describe.each(STORAGE_KINDS)("webhook endpoints over HTTP (%s)", (storage) => {
  const w = useWebhooksHttp(storage);
  const { register, createRequest, approve, onPath } = w;

  it("registers an endpoint, shows its secret once, and lists it without", async () => {
    const { s } = w;
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
    const { s, agent, reviewer } = w;
    const res = await call(s.url, "GET", "/v1/webhooks", { key: agent });
    expect(res.status).toBe(403);
    const dl = await call(s.url, "GET", "/v1/webhooks/deliveries", { key: reviewer });
    expect(dl.status).toBe(403);
  });

  it("refuses internal and non-http(s) targets with a 400 that says why", async () => {
    const { s, receiver } = w;
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

  it("rotates a secret: both sign during the grace period", async () => {
    const { s, receiver } = w;
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
    const { receiver } = w;
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
    const { s, receiver } = w;
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
