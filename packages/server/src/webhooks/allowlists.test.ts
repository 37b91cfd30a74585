// Admins' webhook endpoints and agents' callback URLs are held to separate allow-lists: an internal
// service opened to the first must not become reachable by every agent key.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveConfig } from "../config.ts";
import { startTestServer, type TestServer } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";
import { type Receiver, startReceiver } from "./testing.ts";

describe("outbound allow-lists", () => {
  let s: TestServer;
  let receiver: Receiver;
  let agent: string;
  beforeAll(async () => {
    // Loopback is allow-listed for admins' endpoints only.
    s = await startTestServer({ config: { outboundAllowlist: ["127.0.0.1/32"], webhookRetrySchedule: [0] } });
    receiver = await startReceiver();
    agent = await s.createKey("agent");
  });
  afterAll(async () => {
    await s.close();
    await receiver.close();
  });

  it("lets an admin's endpoint reach an allow-listed internal address, but not an agent's callback", async () => {
    const endpoint = await call(s.url, "POST", "/v1/webhooks", {
      key: s.adminKey,
      body: { url: `${receiver.url}/admin`, events: ["request.created"] },
    });
    expect(endpoint.status).toBe(201);

    const refused = await call<{ detail: string; errors: Array<{ path: string }> }>(
      s.url,
      "POST",
      "/v1/requests",
      {
        key: agent,
        body: { question: "q", callback_url: `${receiver.url}/agent` },
      },
    );
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0]?.path).toBe("/callback_url");
    expect(refused.body.detail).toMatch(/COUNTERSIGN_CALLBACK_ALLOWLIST/);

    // The admin's endpoint still hears of requests created without a callback.
    const created = await call(s.url, "POST", "/v1/requests", { key: agent, body: { question: "q2" } });
    expect(created.status).toBe(201);
    await receiver.waitFor((got) => got.some((hook) => hook.path === "/admin"));
    expect(receiver.received.some((hook) => hook.path === "/agent")).toBe(false);
  });

  it("reads the callback allow-list from its flag or variable, apart from the outbound one", () => {
    const env = {
      COUNTERSIGN_OUTBOUND_ALLOWLIST: "10.0.0.0/8",
      COUNTERSIGN_CALLBACK_ALLOWLIST: "hooks.internal",
    };
    const fromEnv = resolveConfig({}, env);
    expect(fromEnv.outboundAllowlist).toEqual(["10.0.0.0/8"]);
    expect(fromEnv.callbackAllowlist).toEqual(["hooks.internal"]);
    expect(resolveConfig({ "callback-allowlist": "192.168.1.0/24" }, env).callbackAllowlist).toEqual([
      "192.168.1.0/24",
    ]);
    expect(resolveConfig({}, {}).callbackAllowlist).toEqual([]);
    expect(() => resolveConfig({}, { COUNTERSIGN_CALLBACK_ALLOWLIST: "not a cidr/99" })).toThrow();
  });
});
