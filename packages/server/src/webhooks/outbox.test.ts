import { SYSTEM_ACTOR } from "@countersign/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../server.ts";
import { STORAGE_KINDS, startTestServer, type TestServer, testServerConfig } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";
import { claimDue } from "./repo.ts";
import { wdb } from "./schema.ts";
import { type Receiver, startReceiver } from "./testing.ts";

const SETTINGS = {
  outboundAllowlist: ["127.0.0.1/32"],
  callbackAllowlist: ["127.0.0.1/32"],
  webhookRetrySchedule: [0, 0.05, 0.1],
};

describe.each(STORAGE_KINDS)("transactional outbox and delivery worker (%s)", (storage) => {
  let s: TestServer;
  let agent: string;
  let reviewer: string;
  let receiver: Receiver;

  beforeAll(async () => {
    s = await startTestServer({ storage, config: SETTINGS });
    [agent, reviewer] = await Promise.all([s.createKey("agent"), s.createKey("reviewer")]);
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await s.close();
    await receiver.close();
  });

  const store = () => s.server.services.store;
  const count = async (table: "webhook_messages" | "webhook_deliveries", subject: string) => {
    const row = await wdb(store().db)
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("subject_id", "=", subject)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  };
  const logAction = (subject: string) => ({
    at: new Date().toISOString(),
    kind: "action.logged",
    subject_id: subject,
    correlation_id: null,
    actor: SYSTEM_ACTOR,
    data: {},
  });

  it("writes outbox rows in the transaction of the change: a rollback leaves none", async () => {
    const endpoint = await call<{ id: string }>(s.url, "POST", "/v1/webhooks", {
      key: s.adminKey,
      body: { url: `${receiver.url}/tx`, events: ["action.logged"] },
    });
    expect(endpoint.status).toBe(201);

    await expect(
      store().write(async (ctx) => {
        await ctx.appendAudit([logAction("act_rolled_back")]);
        throw new Error("the change fails after its audit entry");
      }),
    ).rejects.toThrow("the change fails");
    expect(await count("webhook_messages", "act_rolled_back")).toBe(0);
    expect(await count("webhook_deliveries", "act_rolled_back")).toBe(0);

    // Two units sharing one group commit: the failing one's rows go, the other's stay.
    const results = await Promise.allSettled([
      store().write(async (ctx) => {
        await ctx.appendAudit([logAction("act_kept")]);
      }),
      store().write(async (ctx) => {
        await ctx.appendAudit([logAction("act_dropped")]);
        throw new Error("rolled back alone");
      }),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected"]);
    expect(await count("webhook_deliveries", "act_kept")).toBe(1);
    expect(await count("webhook_deliveries", "act_dropped")).toBe(0);
    await receiver.waitFor((all) => all.some((r) => r.path === "/tx" && r.body.includes("act_kept")));
    expect(
      receiver.received.some((r) => r.body.includes("act_dropped") || r.body.includes("act_rolled_back")),
    ).toBe(false);
    await call(s.url, "DELETE", `/v1/webhooks/${endpoint.body.id}`, { key: s.adminKey });
  });

  it("never turns delivery bookkeeping into events (no feedback loop)", async () => {
    const endpoint = await call<{ id: string }>(s.url, "POST", "/v1/webhooks", {
      key: s.adminKey,
      body: { url: `${receiver.url}/loop`, events: ["request.decided", "delivery.dead_lettered"] },
    });
    // The endpoint is down for good: its request.decided dies, and so does the dead-letter notice to
    // it, which must not produce a notice about itself.
    receiver.setHandler((hook) => (hook.path === "/loop" ? { status: 500 } : { status: 204 }));
    const created = await call<{ id: string }>(s.url, "POST", "/v1/requests", {
      key: agent,
      body: { question: "q" },
    });
    await call(s.url, "POST", `/v1/requests/${created.body.id}/respond`, {
      key: reviewer,
      body: { approved: true },
    });
    const deadline = Date.now() + 10_000;
    let dead: Array<{ event_type: string }> = [];
    while (Date.now() < deadline) {
      const res = await call<{ data: Array<{ event_type: string; endpoint_id: string }> }>(
        s.url,
        "GET",
        `/v1/webhooks/deliveries?status=dead&endpoint_id=${endpoint.body.id}`,
        { key: s.adminKey },
      );
      dead = res.body.data;
      if (dead.length >= 2) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(dead.map((d) => d.event_type).sort()).toEqual(["delivery.dead_lettered", "request.decided"]);
    await new Promise((r) => setTimeout(r, 400));
    const all = await call<{ data: unknown[] }>(
      s.url,
      "GET",
      `/v1/webhooks/deliveries?endpoint_id=${endpoint.body.id}`,
      { key: s.adminKey },
    );
    expect(all.body.data).toHaveLength(2);
    receiver.setHandler(() => ({ status: 204 }));
    await call(s.url, "DELETE", `/v1/webhooks/${endpoint.body.id}`, { key: s.adminKey });
  });

  it("leaves a delivery claimed by a process that died to be sent once its lease runs out", async () => {
    const webhooks = s.server.services.webhooks;
    await webhooks.stop(); // this process's worker is down while the "other" process claims
    const created = await call<{ id: string }>(s.url, "POST", "/v1/requests", {
      key: agent,
      body: { question: "crash", callback_url: `${receiver.url}/lease` },
    });
    await call(s.url, "POST", `/v1/requests/${created.body.id}/respond`, {
      key: reviewer,
      body: { approved: true },
    });
    const leaseMs = 600;
    const claimedAt = Date.now();
    const claimed = await store().write((ctx) =>
      claimDue(ctx.db, ctx.dialect, {
        now: new Date(claimedAt).toISOString(),
        leaseUntil: new Date(claimedAt + leaseMs).toISOString(),
        token: "a-process-that-was-killed",
        limit: 100,
      }),
    );
    expect(claimed.map((d) => d.subject_id)).toContain(created.body.id);
    // The killed process never records anything. Ours comes back and sweeps.
    await webhooks.start(SETTINGS);
    await receiver.waitFor((all) => all.some((r) => r.path === "/lease"), 5_000);
    expect(Date.now() - claimedAt).toBeGreaterThanOrEqual(leaseMs - 50);
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver.received.filter((r) => r.path === "/lease")).toHaveLength(1);
  });

  it("on shutdown, interrupts attempts still in flight after a grace period and leaves them due", async () => {
    const webhooks = s.server.services.webhooks;
    let hold = true;
    receiver.setHandler(async (hook) => {
      if (hook.path === "/held" && hold) await new Promise((r) => setTimeout(r, 5_000));
      return { status: 204 };
    });
    const created = await call<{ id: string }>(s.url, "POST", "/v1/requests", {
      key: agent,
      body: { question: "held", callback_url: `${receiver.url}/held` },
    });
    await call(s.url, "POST", `/v1/requests/${created.body.id}/respond`, {
      key: reviewer,
      body: { approved: true },
    });
    await receiver.waitFor((all) => all.some((r) => r.path === "/held"));
    const t0 = Date.now();
    await webhooks.stop();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1_900); // the grace period
    const interrupted = await call<{ data: Array<Record<string, unknown>> }>(
      s.url,
      "GET",
      `/v1/webhooks/deliveries?subject_id=${created.body.id}`,
      { key: s.adminKey },
    );
    expect(interrupted.body.data[0]).toMatchObject({ status: "pending", attempt_count: 1 });
    expect(interrupted.body.data[0]?.attempts).toMatchObject([{ attempt: 1, outcome: "interrupted" }]);
    hold = false;
    await webhooks.start(SETTINGS);
    await receiver.waitFor((all) => all.filter((r) => r.path === "/held").length === 2);
    receiver.setHandler(() => ({ status: 204 }));
  });

  it("recovers from a lost secret key by rotation: attempts say why, then redrive delivers", async () => {
    const webhooks = s.server.services.webhooks;
    const endpoint = await call<{ id: string }>(s.url, "POST", "/v1/webhooks", {
      key: s.adminKey,
      body: { url: `${receiver.url}/rekeyed`, events: ["action.logged"] },
    });
    // The operator restarts with another COUNTERSIGN_SECRET_KEY than the secrets were sealed under.
    await webhooks.stop();
    await webhooks.start(
      { ...SETTINGS, webhookRetrySchedule: [0] },
      { env: { COUNTERSIGN_SECRET_KEY: "a-different-key-than-the-one-in-the-settings-table" } },
    );
    try {
      const action = await call<{ id: string }>(s.url, "POST", "/v1/actions", {
        key: agent,
        body: { action: "x", summary: "rekeyed" },
      });
      let dead: { id: string; attempts: Array<{ error: string }> } | undefined;
      for (let i = 0; i < 200 && !dead; i++) {
        const res = await call<{
          data: Array<{ id: string; status: string; attempts: Array<{ error: string }> }>;
        }>(s.url, "GET", `/v1/webhooks/deliveries?subject_id=${action.body.id}`, { key: s.adminKey });
        dead = res.body.data.find((d) => d.status === "dead");
        if (!dead) await new Promise((r) => setTimeout(r, 25));
      }
      expect(dead?.attempts[0]?.error).toMatch(/^not sent: this secret was sealed with another key/);
      const unreadable = await call(s.url, "GET", "/v1/webhooks/callback-signing", { key: s.adminKey });
      expect(unreadable.status).toBe(409);

      const rotated = await call<{ secret: string; previous_secret_expires_at: string | null }>(
        s.url,
        "POST",
        `/v1/webhooks/${endpoint.body.id}/rotate`,
        { key: s.adminKey, body: {} },
      );
      expect(rotated.status).toBe(200);
      expect(rotated.body.previous_secret_expires_at).toBeNull();
      await call(s.url, "POST", "/v1/webhooks/callback-signing/rotate", { key: s.adminKey, body: {} });
      expect((await call(s.url, "GET", "/v1/webhooks/callback-signing", { key: s.adminKey })).status).toBe(
        200,
      );
      await call(s.url, "POST", `/v1/webhooks/deliveries/${dead?.id}/redrive`, { key: s.adminKey });
      await receiver.waitFor((all) => all.some((r) => r.path === "/rekeyed"));
      const hook = receiver.received.find((r) => r.path === "/rekeyed");
      const { Webhook } = await import("standardwebhooks");
      expect(new Webhook(rotated.body.secret).verify(hook?.body ?? "", hook?.headers ?? {})).toBeTruthy();
    } finally {
      await call(s.url, "DELETE", `/v1/webhooks/${endpoint.body.id}`, { key: s.adminKey });
      await webhooks.stop();
      await webhooks.start(SETTINGS);
      // Back under the original key, the callback secret rotated above must be rotated again.
      await call(s.url, "POST", "/v1/webhooks/callback-signing/rotate", { key: s.adminKey, body: {} });
    }
  });

  it("shares the work between replicas without sending anything twice", async () => {
    const config = testServerConfig({ bootstrapAdminKey: s.adminKey, expirySweepMs: 50, ...SETTINGS });
    const second: RunningServer = await startServer(config, {
      store: await s.testStore.reopen(),
      logger: false,
    });
    try {
      const n = 40;
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        const base = i % 2 === 0 ? s.url : second.url;
        const created = await call<{ id: string }>(base, "POST", "/v1/requests", {
          key: agent,
          body: { question: `replica ${i}`, callback_url: `${receiver.url}/replicas` },
        });
        ids.push(created.body.id);
      }
      await Promise.all(
        ids.map((id, i) =>
          call(i % 3 === 0 ? second.url : s.url, "POST", `/v1/requests/${id}/respond`, {
            key: reviewer,
            body: { approved: true },
          }),
        ),
      );
      await receiver.waitFor((all) => all.filter((r) => r.path === "/replicas").length >= n, 15_000);
      await new Promise((r) => setTimeout(r, 500));
      const hooks = receiver.received.filter((r) => r.path === "/replicas");
      expect(hooks).toHaveLength(n);
      expect(new Set(hooks.map((h) => h.headers["webhook-id"])).size).toBe(n);
      const subjects = new Set(hooks.map((h) => (JSON.parse(h.body) as { data: { id: string } }).data.id));
      expect([...subjects].sort()).toEqual([...ids].sort());
    } finally {
      await second.close();
    }
  });
});
