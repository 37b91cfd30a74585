import { describe, expect, it } from "vitest";
import { openSse } from "../dashboard/sse-client.ts";
import { STORAGE_KINDS } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";
import { coarseDeliveryError } from "./agent-view.ts";
import { useWebhooksHttp } from "./http-test-setup.ts";
import type { DeliveryResource } from "./resources.ts";

describe("coarseDeliveryError", () => {
  it("keeps the kind of failure and drops what it says about the network", () => {
    expect(coarseDeliveryError("refused: 10.0.3.7 is a private address (resolved from db.internal)")).toBe(
      "refused: the server's outbound policy does not allow this address",
    );
    expect(coarseDeliveryError("redirect refused: HTTP 302 to http://10.0.0.1/admin")).toBe(
      "redirect refused: HTTP 302",
    );
    expect(coarseDeliveryError("ECONNREFUSED: connect ECONNREFUSED 192.0.2.10:8443")).toBe(
      "could not connect",
    );
    expect(coarseDeliveryError("getaddrinfo ENOTFOUND payroll.corp")).toBe("could not connect");
    expect(coarseDeliveryError("HTTP 503")).toBe("HTTP 503");
    expect(coarseDeliveryError("no response within 15 s")).toBe("no response within 15 s");
  });
});

describe.each(STORAGE_KINDS)("an agent reading its callbacks' failures (%s)", (storage) => {
  const w = useWebhooksHttp(storage);

  it("sees that a redirect was refused, not where it pointed; an admin sees everything", async () => {
    const { s, agent, receiver } = w;
    receiver.setHandler((hook) =>
      hook.path === "/cb-moved"
        ? { status: 302, headers: { location: "http://10.1.2.3/internal-admin" } }
        : { status: 204 },
    );
    const correlation = `case-${Date.now()}`;
    const id = await w.createRequest({
      callback_url: `${receiver.url}/cb-moved`,
      correlation_id: correlation,
    });
    await w.approve(id);
    // The callback's delivery exhausts its (shortened) retries and is dead-lettered.
    await expect
      .poll(
        async () =>
          (
            await call<{ data: DeliveryResource[] }>(
              s.url,
              "GET",
              `/v1/webhooks/deliveries?subject_id=${id}`,
              {
                key: s.adminKey,
              },
            )
          ).body.data.find((d) => d.target === "callback")?.status,
        { timeout: 10_000, interval: 25 },
      )
      .toBe("dead");

    const asAgent = await call<{ timeline: Array<{ kind: string; data: Record<string, unknown> }> }>(
      s.url,
      "GET",
      `/v1/cases/${correlation}`,
      { key: agent },
    );
    expect(asAgent.status).toBe(200);
    const failures = asAgent.body.timeline.filter((e) => e.kind === "webhook.failed");
    expect(failures.length).toBeGreaterThan(0);
    for (const f of failures) {
      expect(f.data.error).toBe("redirect refused: HTTP 302");
      expect(f.data.error_redacted).toBe(true);
    }
    expect(JSON.stringify(asAgent.body)).not.toContain("10.1.2.3");

    // The event stream, replayed from the start, says the same to the agent.
    const sse = await openSse(`${s.url}/v1/events`, {
      authorization: `Bearer ${agent}`,
      "last-event-id": "0",
    });
    try {
      const streamed = await sse.next((m) => m.event === "message" && m.data.includes('"webhook.failed"'));
      const event = JSON.parse(streamed.data) as { data: Record<string, unknown> };
      expect(event.data.error).toBe("redirect refused: HTTP 302");
      expect(streamed.data).not.toContain("10.1.2.3");
    } finally {
      sse.close();
    }

    const asAdmin = await call<{
      data: Array<{ kind: string; subject_id: string; data: Record<string, unknown> }>;
    }>(s.url, "GET", "/v1/audit?limit=1000", { key: s.adminKey });
    const full = asAdmin.body.data.filter(
      (e) => e.kind === "webhook.failed" && String(e.data.error).includes("10.1.2.3"),
    );
    expect(full.length).toBe(failures.length);
  });
});
