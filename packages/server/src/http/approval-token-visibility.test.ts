import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSse } from "../dashboard/sse-client.ts";
import { STORAGE_KINDS, startTestServer, type TestServer } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";

const POLICY = `version: 1
default: { decision: allow }
rules:
  - id: email-external
    match: { tool: "email.send" }
    decision: approval_required
    reason: "customer email needs a human"
`;

interface Req {
  id: string;
  status: string;
  correlation_id: string;
  approval_token?: string | null;
}

describe.each(STORAGE_KINDS)("who sees a request's approval token (%s)", (storage) => {
  let s: TestServer;
  let agent: string;
  let reviewer: string;

  beforeAll(async () => {
    s = await startTestServer({ storage });
    [agent, reviewer] = await Promise.all([s.createKey("agent"), s.createKey("reviewer")]);
    const put = await call(s.url, "PUT", "/v1/policy", { key: s.adminKey, body: { source: POLICY } });
    expect(put.status).toBe(200);
  });
  afterAll(() => s.close());

  it("shows it to the agent that asked and to admins, never to the reviewer who approved", async () => {
    const govern = (callId: string) =>
      call<{ request_id: string; approval_token: string | null }>(s.url, "POST", "/v1/govern", {
        key: agent,
        body: { run_id: "run-token", call_id: callId, tool: "email.send", args: { to: "cfo@acme.test" } },
      });
    const parked = await govern("send");
    const id = parked.body.request_id;
    const events = (key: string) => openSse(`${s.url}/v1/events`, { authorization: `Bearer ${key}` });
    const [reviewerStream, adminStream] = await Promise.all([events(reviewer), events(s.adminKey)]);
    try {
      await Promise.all([reviewerStream, adminStream].map((e) => e.next((m) => m.event === "ready")));

      const approved = await call<Req>(s.url, "POST", `/v1/requests/${id}/respond`, {
        key: reviewer,
        body: { approved: true },
      });
      expect(approved.status).toBe(200);
      expect(approved.body.status).toBe("approved");
      expect(approved.body).not.toHaveProperty("approval_token");

      // The agent gets it, where it always did.
      const token = (await govern("send")).body.approval_token;
      expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      const asAgent = await call<Req>(s.url, "GET", `/v1/requests/${id}`, { key: agent });
      expect(asAgent.body.approval_token).toBe(token);
      const asAdmin = await call<Req>(s.url, "GET", `/v1/requests/${id}`, { key: s.adminKey });
      expect(asAdmin.body.approval_token).toBe(token);

      // Every way a reviewer reads the request leaves it out.
      const got = await call<Req>(s.url, "GET", `/v1/requests/${id}`, { key: reviewer });
      expect(got.status).toBe(200);
      expect(got.body).not.toHaveProperty("approval_token");
      const waited = await call<Req>(s.url, "GET", `/v1/requests/${id}/wait?timeout_seconds=1`, {
        key: reviewer,
      });
      expect(waited.body).not.toHaveProperty("approval_token");
      const listed = await call<{ data: Req[] }>(s.url, "GET", "/v1/requests?status=approved", {
        key: reviewer,
      });
      const inList = listed.body.data.find((r) => r.id === id);
      expect(inList).toBeDefined();
      expect(inList).not.toHaveProperty("approval_token");
      const caseView = await call<{ requests: Req[] }>(s.url, "GET", `/v1/cases/${got.body.correlation_id}`, {
        key: reviewer,
      });
      expect(caseView.body.requests.map((r) => r.id)).toContain(id);
      for (const r of caseView.body.requests) expect(r).not.toHaveProperty("approval_token");
      const agentCase = await call<{ requests: Req[] }>(
        s.url,
        "GET",
        `/v1/cases/${got.body.correlation_id}`,
        {
          key: agent,
        },
      );
      expect(agentCase.body.requests.find((r) => r.id === id)?.approval_token).toBe(token);

      const isApproved = (m: { event: string; data: string }) =>
        m.event === "message" && (JSON.parse(m.data) as { kind: string }).kind === "request.approved";
      const forReviewer = JSON.parse((await reviewerStream.next(isApproved)).data) as { request: Req };
      expect(forReviewer.request.status).toBe("approved");
      expect(forReviewer.request).not.toHaveProperty("approval_token");
      const forAdmin = JSON.parse((await adminStream.next(isApproved)).data) as { request: Req };
      expect(forAdmin.request.approval_token).toBe(token);
    } finally {
      reviewerStream.close();
      adminStream.close();
    }
  });
});
