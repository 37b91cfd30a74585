// What the webhooks HTTP test files share: one server per storage kind with loopback allow-listed and
// retries shortened, an agent and a reviewer key, a local receiver, endpoints removed after each test,
// and the requests, registrations and delivery polling the tests are written in terms of.

import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { type StorageKind, startTestServer, type TestServer } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";
import type { DeliveryResource } from "./resources.ts";
import { type ReceivedWebhook, type Receiver, startReceiver } from "./testing.ts";

// Retries shortened through configuration: 4 attempts, 50–100 ms apart. Loopback allow-listed.
const CONFIG = {
  outboundAllowlist: ["127.0.0.1/32"],
  callbackAllowlist: ["127.0.0.1/32"],
  webhookRetrySchedule: [0, 0.05, 0.05, 0.1],
};

export interface Event {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

export const parse = (hook: ReceivedWebhook) => JSON.parse(hook.body) as Event;

export interface WebhooksHttp {
  /** The server, agent and reviewer keys and receiver: read them inside a test, once started. */
  readonly s: TestServer;
  readonly agent: string;
  readonly reviewer: string;
  readonly receiver: Receiver;
  register(
    path: string,
    events: string[],
    extra?: Record<string, unknown>,
  ): Promise<{ id: string; secret: string; public_key: string | null }>;
  createRequest(body?: Record<string, unknown>): Promise<string>;
  approve(id: string): Promise<void>;
  onPath(path: string): ReceivedWebhook[];
}

/** Starts the server and receiver for the enclosing `describe` and cleans up between its tests. */
export function useWebhooksHttp(storage: StorageKind): WebhooksHttp {
  let s: TestServer | undefined;
  let agent: string | undefined;
  let reviewer: string | undefined;
  let receiver: Receiver | undefined;

  beforeAll(async () => {
    s = await startTestServer({ storage, config: CONFIG });
    [agent, reviewer] = await Promise.all([s.createKey("agent"), s.createKey("reviewer")]);
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await env.s.close();
    await env.receiver.close();
  });
  afterEach(async () => {
    const { s, receiver } = env;
    // Endpoints of one test must not receive the next test's events.
    const list = await call<{ data: Array<{ id: string }> }>(s.url, "GET", "/v1/webhooks", {
      key: s.adminKey,
    });
    for (const e of list.body.data) await call(s.url, "DELETE", `/v1/webhooks/${e.id}`, { key: s.adminKey });
    receiver.setHandler(() => ({ status: 204 }));
  });

  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("the webhooks test server has not started");
    return value;
  };

  const env: WebhooksHttp = {
    get s() {
      return started(s);
    },
    get agent() {
      return started(agent);
    },
    get reviewer() {
      return started(reviewer);
    },
    get receiver() {
      return started(receiver);
    },

    async register(path, events, extra = {}) {
      const { s, receiver } = env;
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
    },

    async createRequest(body = {}) {
      const { s, agent } = env;
      const res = await call<{ id: string }>(s.url, "POST", "/v1/requests", {
        key: agent,
        body: { question: "Ship it?", ...body },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.id;
    },

    async approve(id) {
      const { s, reviewer } = env;
      const res = await call(s.url, "POST", `/v1/requests/${id}/respond`, {
        key: reviewer,
        body: { approved: true },
      });
      expect(res.status).toBe(200);
    },

    onPath: (path) => env.receiver.received.filter((r) => r.path === path),
  };
  return env;
}

export async function waitForDeliveries(
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

export async function waitForDelivery(
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
