import { verifyWebhook, WebhookVerificationError } from "@countersign/sdk";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";
import { freePort } from "./testing.ts";

/**
 * The receiving example of packages/sdk/README.md and docs/webhooks.md, run for real: a Fastify app
 * that verifies, de-duplicates by webhook-id, and acts.
 */
function receivingApp(secret: string, resumeAgent: (requestId: string, approved: boolean) => Promise<void>) {
  const seen = new Set<string>(); // in production: a unique index on webhook-id in your database

  const app = Fastify();
  // Verification needs the body exactly as it was sent: keep JSON bodies as text.
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_req, body, done) => done(null, body));

  app.post("/webhooks/countersign", async (req, reply) => {
    let event: Awaited<ReturnType<typeof verifyWebhook>>;
    try {
      event = await verifyWebhook(req.headers, req.body as string, secret);
    } catch (error) {
      if (error instanceof WebhookVerificationError) return reply.code(400).send({ error: error.code });
      throw error;
    }
    if (seen.has(event.id)) return reply.code(204).send(); // a retry of a message already handled
    if (event.type === "request.decided") {
      await resumeAgent(event.data.id, event.data.status === "approved");
    }
    seen.add(event.id); // only once acted upon: if acting failed, the 5xx makes Countersign retry
    return reply.code(204).send();
  });
  return app;
}

describe("the README's receiving example", () => {
  let s: TestServer;
  let app: ReturnType<typeof receivingApp> | undefined;
  afterAll(async () => {
    await app?.close();
    await s.close();
  });
  beforeAll(async () => {
    s = await startTestServer({
      config: { outboundAllowlist: ["127.0.0.1/32"], webhookRetrySchedule: [0, 0.05] },
    });
  });

  it("verifies, de-duplicates by webhook-id, and acts once", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/webhooks/countersign`;
    const endpoint = await call<{ secret: string }>(s.url, "POST", "/v1/webhooks", {
      key: s.adminKey,
      body: { url, events: ["request.decided"] },
    });
    const resumed: Array<[string, boolean]> = [];
    let fail = true;
    app = receivingApp(endpoint.body.secret, async (id, approved) => {
      if (fail) {
        fail = false; // acting fails the first time: the 500 makes Countersign send it again
        throw new Error("agent platform unavailable");
      }
      resumed.push([id, approved]);
    });
    const delivered: Array<{ headers: Record<string, string>; body: string }> = [];
    app.addHook("preHandler", async (req) => {
      const headers: Record<string, string> = {};
      for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature", "content-type"]) {
        headers[name] = String(req.headers[name]);
      }
      delivered.push({ headers, body: req.body as string });
    });
    await app.listen({ port, host: "127.0.0.1" });

    const agent = await s.createKey("agent");
    const reviewer = await s.createKey("reviewer");
    const created = await call<{ id: string }>(s.url, "POST", "/v1/requests", {
      key: agent,
      body: { question: "q" },
    });
    await call(s.url, "POST", `/v1/requests/${created.body.id}/respond`, {
      key: reviewer,
      body: { approved: true },
    });

    const deadline = Date.now() + 10_000;
    let delivery: { status: string; attempts: Array<{ status_code: number }> } | undefined;
    while (Date.now() < deadline) {
      const res = await call<{ data: Array<{ status: string; attempts: Array<{ status_code: number }> }> }>(
        s.url,
        "GET",
        `/v1/webhooks/deliveries?subject_id=${created.body.id}`,
        { key: s.adminKey },
      );
      delivery = res.body.data[0];
      if (delivery?.status === "delivered") break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(delivery?.attempts.map((a) => a.status_code)).toEqual([500, 204]);
    expect(resumed).toEqual([[created.body.id, true]]);

    // The same message again (a retry after a lost acknowledgement) is acknowledged and ignored.
    const last = delivered.at(-1);
    if (!last) throw new Error("nothing delivered");
    const again = await fetch(url, { method: "POST", headers: last.headers, body: last.body });
    expect(again.status).toBe(204);
    expect(resumed).toHaveLength(1);
    // A forgery is refused.
    const forged = await fetch(url, {
      method: "POST",
      headers: last.headers,
      body: last.body.replace('"approved"', '"rejected"'),
    });
    expect(forged.status).toBe(400);
    expect(await forged.json()).toEqual({ error: "invalid_signature" });
  });
});
