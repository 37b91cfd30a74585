// How webhook deliveries fail over HTTP: retries, dead letters and their redrive, abort-message and
// redirects. Shared setup is in http-test-setup.ts.

import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { STORAGE_KINDS } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";
import { type Event, useWebhooksHttp, waitForDelivery } from "./http-test-setup.ts";
import type { DeliveryResource } from "./resources.ts";
import type { ReceivedWebhook } from "./testing.ts";

describe.each(STORAGE_KINDS)("webhook deliveries over HTTP (%s)", (storage) => {
  const w = useWebhooksHttp(storage);
  const { register, createRequest, approve, onPath } = w;

  it("retries failures on the configured schedule with the same webhook-id", async () => {
    const { s, receiver } = w;
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
    const { s, receiver } = w;
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
    const { s, receiver } = w;
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
    const { s, receiver } = w;
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
});
