import { randomBytes } from "node:crypto";
import { type ApprovalRequest, ManualClock } from "@countersign/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type RunningServer, startServer } from "../server.ts";
import type { Store } from "../storage/store.ts";
import {
  createTestStore,
  STORAGE_KINDS,
  startTestServer,
  type TestStore,
  testServerConfig,
} from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";
import { addReviewer, auditEntries } from "../testing/reviewers.ts";

const START = Date.UTC(2026, 0, 7, 12); // Wednesday noon UTC

describe.each(STORAGE_KINDS)("escalation (%s)", (storage) => {
  let testStore: TestStore | undefined;
  const running: RunningServer[] = [];
  afterEach(async () => {
    for (const server of running.splice(0)) await server.close();
    await testStore?.cleanup();
    testStore = undefined;
  });

  it("fires exactly once per tier, across restarts, driven by the durable worker", async () => {
    const clock = new ManualClock(START);
    testStore = await createTestStore(storage);
    const ts = testStore;
    const adminKey = `cs_admin_${randomBytes(32).toString("base64url")}`;
    const config = testServerConfig({ bootstrapAdminKey: adminKey, expirySweepMs: 20 });
    const boot = async (store: Store) => {
      const server = await startServer(config, { store, clock, logger: false });
      running.push(server);
      return { server, api: { url: server.url, adminKey } };
    };
    const stop = async (server: RunningServer) => {
      running.splice(running.indexOf(server), 1);
      await server.close();
    };

    let { server, api } = await boot(ts.store);
    const agent = await createKey(api, "agent");
    await addReviewer(api, { name: "Ann", roles: ["finance"] });
    await addReviewer(api, { name: "Fay", fallback_for: ["finance"] });
    const created = await call<ApprovalRequest>(api.url, "POST", "/v1/requests", {
      key: agent,
      body: { question: "Pay?", required_role: "finance", escalate_after_seconds: 60 },
    });
    const id = created.body.id;
    expect(created.body.routing).toMatchObject({
      tier: "primary",
      next_escalation_at: new Date(START + 60_000).toISOString(),
    });

    // Down before it was due; due while down; up again: it fires, once.
    await stop(server);
    clock.advance(61_000);
    ({ server, api } = await boot(await ts.reopen()));
    const escalations = async () =>
      (await auditEntries(api, id)).filter((e) => e.kind === "request.escalated");
    await vi.waitFor(async () => expect(await escalations()).toHaveLength(1), { timeout: 10_000 });
    // Sweeping again (concurrently, too) finds nothing more to do.
    await Promise.all(Array.from({ length: 5 }, () => server.services.requests.escalateDue()));
    expect(await escalations()).toHaveLength(1);
    const first = (await escalations())[0];
    expect(first).toMatchObject({
      actor: { type: "system", name: "escalation" },
      data: { from_tier: "primary", to_tier: "fallback", escalation: 1 },
    });

    // Restart after it fired: it does not fire again.
    await stop(server);
    ({ server, api } = await boot(await ts.reopen()));
    expect(await server.services.requests.escalateDue()).toBe(0);
    expect(await escalations()).toHaveLength(1);
    const mid = await call<ApprovalRequest>(api.url, "GET", `/v1/requests/${id}`, { key: adminKey });
    expect(mid.body.routing).toMatchObject({
      tier: "fallback",
      escalations: 1,
      next_escalation_at: new Date(START + 121_000).toISOString(),
    });
    expect(mid.body.routing?.assignees.map((a) => a.name)).toEqual(["Ann", "Fay"]);

    // The next tier is the admins, once; after that there is nothing left to escalate to.
    clock.advance(60_000);
    await vi.waitFor(async () => expect(await escalations()).toHaveLength(2), { timeout: 10_000 });
    clock.advance(3_600_000);
    await server.services.requests.escalateDue();
    expect((await escalations()).map((e) => e.data.to_tier)).toEqual(["fallback", "admins"]);
    const last = await call<ApprovalRequest>(api.url, "GET", `/v1/requests/${id}`, { key: adminKey });
    expect(last.body.routing).toMatchObject({ tier: "admins", escalations: 2, next_escalation_at: null });
  });

  it.runIf(storage === "postgres")("fires once when two replicas sweep the same database", async () => {
    const clock = new ManualClock(START);
    const s = await startTestServer({ storage, clock });
    try {
      const agent = await s.createKey("agent");
      await addReviewer(s, { name: "Ann", roles: ["finance"] });
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) {
        const r = await call<ApprovalRequest>(s.url, "POST", "/v1/requests", {
          key: agent,
          body: { question: `Pay ${i}?`, required_role: "finance", escalate_after_seconds: 30 },
        });
        ids.push(r.body.id);
      }
      const other = await startServer(
        {
          port: 0,
          host: "127.0.0.1",
          dataDir: "unused",
          databaseUrl: undefined,
          policyFile: undefined,
          bootstrapAdminKey: undefined,
          logLevel: "silent",
          expirySweepMs: 10,
        },
        { store: await s.testStore.reopen(), clock, logger: false },
      );
      running.push(other);
      clock.advance(30_000);
      await Promise.all([
        ...Array.from({ length: 3 }, () => s.server.services.requests.escalateDue(5)),
        ...Array.from({ length: 3 }, () => other.services.requests.escalateDue(5)),
      ]);
      await vi.waitFor(
        async () => {
          const all = (await auditEntries(s)).filter((e) => e.kind === "request.escalated");
          expect(all).toHaveLength(ids.length);
        },
        { timeout: 10_000 },
      );
      const all = (await auditEntries(s)).filter((e) => e.kind === "request.escalated");
      expect(new Set(all.map((e) => e.subject_id)).size).toBe(ids.length);
    } finally {
      await s.close();
    }
  });

  it("inherits the delay from the priority, with configurable defaults, and stops once decided", async () => {
    const clock = new ManualClock(START);
    const s = await startTestServer({
      storage,
      clock,
      config: { escalation: { urgent: 30, normal: 120, low: null } },
    });
    try {
      const [agent, reviewer] = await Promise.all([s.createKey("agent"), s.createKey("reviewer")]);
      const make = async (priority: string) =>
        (
          await call<ApprovalRequest>(s.url, "POST", "/v1/requests", {
            key: agent,
            body: { question: priority, priority },
          })
        ).body;
      const urgent = await make("urgent");
      const high = await make("high");
      const normal = await make("normal");
      const low = await make("low");
      expect(urgent.routing?.escalate_after_seconds).toBe(30);
      expect(high.routing?.escalate_after_seconds).toBe(600); // not configured: the built-in default
      expect(normal.routing?.escalate_after_seconds).toBe(120);
      expect(low.routing?.next_escalation_at).toBeNull();
      // Decided requests never escalate.
      await call(s.url, "POST", `/v1/requests/${normal.id}/respond`, {
        key: reviewer,
        body: { approved: true },
      });
      clock.advance(30_000);
      await vi.waitFor(async () =>
        expect((await auditEntries(s, urgent.id)).map((e) => e.kind)).toContain("request.escalated"),
      );
      clock.advance(10 * 3_600_000);
      await s.server.services.requests.escalateDue();
      const kinds = async (id: string) => (await auditEntries(s, id)).map((e) => e.kind);
      expect(await kinds(normal.id)).not.toContain("request.escalated");
      expect(await kinds(low.id)).not.toContain("request.escalated");
      expect((await kinds(high.id)).filter((k) => k === "request.escalated")).toHaveLength(1);
      // Open requests go straight to the admins.
      const escalated = await call<ApprovalRequest>(s.url, "GET", `/v1/requests/${urgent.id}`, {
        key: s.adminKey,
      });
      expect(escalated.body.routing).toMatchObject({
        state: "open",
        tier: "admins",
        next_escalation_at: null,
      });
    } finally {
      await s.close();
    }
  });
});

async function createKey(api: { url: string; adminKey: string }, role: string): Promise<string> {
  const res = await call<{ secret: string }>(api.url, "POST", "/v1/keys", {
    key: api.adminKey,
    body: { role, name: `${role} ${randomBytes(3).toString("hex")}` },
  });
  return res.body.secret;
}
