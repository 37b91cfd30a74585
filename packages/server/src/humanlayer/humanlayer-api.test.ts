import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STORAGE_KINDS, startTestServer, type TestServer } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";

/*
 * The HumanLayer-compatible API over HTTP: authentication, roles, validation, idempotency,
 * visibility and the status mapping both ways. (The real `@humanlayer/sdk` runs against it in
 * packages/integrations/src/humanlayer.)
 */

type Body = Record<string, unknown> & {
  status: Record<string, unknown>;
  countersign: { request_id: string };
};

describe.each(STORAGE_KINDS)("HumanLayer API (%s)", (storage) => {
  let s: TestServer;
  let agent: string;
  let otherAgent: string;
  let reviewer: string;
  let n = 0;
  const id = (prefix: string) => `${prefix}-${storage}-${++n}`;
  const hl = (method: string, path: string, key: string | undefined, body?: unknown) =>
    call<Body>(s.url, method, `/humanlayer/v1${path}`, {
      ...(key ? { key } : {}),
      ...(body ? { body } : {}),
    });

  beforeAll(async () => {
    s = await startTestServer({ storage });
    [agent, otherAgent, reviewer] = await Promise.all([
      s.createKey("agent", "hl-a"),
      s.createKey("agent", "hl-b"),
      s.createKey("reviewer"),
    ]);
  });
  afterAll(() => s.close());

  it("needs a known bearer key, and a reviewer (not an agent) to decide", async () => {
    const callId = id("call");
    expect((await hl("GET", `/function_calls/${callId}`, undefined)).status).toBe(401);
    expect((await hl("GET", `/function_calls/${callId}`, "cs_agent_nope")).status).toBe(401);
    const created = await hl("POST", "/function_calls", agent, {
      run_id: "r",
      call_id: callId,
      spec: { fn: "f", kwargs: {} },
    });
    expect(created.status).toBe(201);
    const selfApproval = await hl("POST", `/agent/function_calls/${callId}/respond`, agent, {
      approved: true,
    });
    expect(selfApproval.status).toBe(403);
    expect(selfApproval.body.detail).toContain("an agent key cannot decide requests");
    expect(selfApproval.headers.get("content-type")).toContain("application/problem+json");
    const byReviewer = await hl("POST", "/function_calls", reviewer, {
      run_id: "r",
      call_id: id("c"),
      spec: { fn: "f" },
    });
    expect(byReviewer.status).toBe(403);
  });

  it("maps a function call to an approval request and a reviewer's response back", async () => {
    const runId = id("run");
    const callId = id("call");
    const spec = {
      fn: "send_invoice",
      kwargs: { customer: "acme", total: 1200 },
      channel: { email: { address: "ap@acme.test" } },
    };
    const created = await hl("POST", "/function_calls", agent, { run_id: runId, call_id: callId, spec });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      run_id: runId,
      call_id: callId,
      spec,
      status: { approved: null, comment: null, responded_at: null, reject_option_name: null },
    });
    const request = await call(s.url, "GET", `/v1/requests/${created.body.countersign.request_id}`, {
      key: reviewer,
    });
    expect(request.body).toMatchObject({
      type: "approval",
      status: "pending",
      tool: { name: "send_invoice", args: { customer: "acme", total: 1200 } },
      external_request_id: `humanlayer:function_call:${callId}`,
      correlation_id: runId,
    });

    const replay = await hl("POST", "/function_calls", agent, { run_id: runId, call_id: callId, spec });
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(created.body);
    const conflict = await hl("POST", "/function_calls", agent, {
      run_id: runId,
      call_id: callId,
      spec: { ...spec, kwargs: { customer: "acme", total: 9999 } },
    });
    expect(conflict.status).toBe(409);

    const decided = await hl("POST", `/agent/function_calls/${callId}/respond`, reviewer, {
      approved: false,
      comment: "wrong total",
      requested_at: "2026-01-01T00:00:00Z",
    });
    expect(decided.status).toBe(200);
    expect(decided.body.status).toMatchObject({ approved: false, comment: "wrong total" });
    const read = await hl("GET", `/function_calls/${callId}`, agent);
    expect(read.body.status).toMatchObject({
      approved: false,
      comment: "wrong total",
      responded_at: expect.any(String),
    });
    const review = await call<{ response: { reviews: { channel: string }[] } }>(
      s.url,
      "GET",
      `/v1/requests/${created.body.countersign.request_id}`,
      { key: reviewer },
    );
    expect(review.body.response.reviews[0]?.channel).toBe("humanlayer");
  });

  it("accepts what the Python client sends: nulls and fields Countersign does not use", async () => {
    const callId = id("py");
    const created = await hl("POST", "/function_calls", agent, {
      run_id: id("run"),
      call_id: callId,
      spec: {
        fn: "deploy",
        kwargs: { env: "prod" },
        channel: null,
        reject_options: null,
        state: null,
        extra: 1,
      },
      status: null,
    });
    expect(created.status).toBe(201);
    const contact = await hl("POST", "/contact_requests", agent, {
      run_id: id("run"),
      call_id: id("hc"),
      spec: { msg: "Proceed?", subject: null, channel: null, response_options: null, state: { step: 3 } },
      status: null,
    });
    expect(contact.status).toBe(201);
    expect(contact.body.spec).toEqual({
      msg: "Proceed?",
      subject: null,
      channel: null,
      response_options: null,
      state: { step: 3 },
    });
  });

  it("answers contact requests, free text or by option, and refuses responses that do not fit", async () => {
    const free = id("hc");
    await hl("POST", "/contact_requests", agent, {
      run_id: id("run"),
      call_id: free,
      spec: { msg: "Which region?" },
    });
    const empty = await hl("POST", `/agent/human_contacts/${free}/respond`, reviewer, { response: "  " });
    expect(empty.status).toBe(400);
    const answered = await hl("POST", `/agent/human_contacts/${free}/respond`, reviewer, {
      response: "eu-west-1",
    });
    expect(answered.body.status).toMatchObject({ response: "eu-west-1", response_option_name: null });
    const twice = await hl("POST", `/agent/human_contacts/${free}/respond`, reviewer, {
      response: "us-east-1",
    });
    expect(twice.status).toBe(409);

    const choice = id("hc");
    await hl("POST", "/contact_requests", agent, {
      run_id: id("run"),
      call_id: choice,
      spec: { msg: "Ship now?", response_options: [{ name: "yes", title: "Ship it" }, { name: "no" }] },
    });
    const noOption = await hl("POST", `/agent/human_contacts/${choice}/respond`, reviewer, {
      response: "sure",
    });
    expect(noOption.status).toBe(400);
    const unknown = await hl("POST", `/agent/human_contacts/${choice}/respond`, reviewer, {
      response_option_name: "maybe",
    });
    expect(unknown.status).toBe(400);
    const chosen = await hl("POST", `/agent/human_contacts/${choice}/respond`, reviewer, {
      response_option_name: "yes",
    });
    expect(chosen.body.status).toMatchObject({ response: "Ship it", response_option_name: "yes" });
  });

  it("refuses bad input with 400s, never a 500", async () => {
    const bodies: unknown[] = [
      { run_id: "r", call_id: "c", spec: {} },
      { run_id: "r", call_id: "c", spec: { fn: "" } },
      { run_id: "r", call_id: "c", spec: { fn: "bad name!" } },
      { run_id: "r", spec: { fn: "f" } },
      { run_id: "r", call_id: "c", spec: { fn: "f", reject_options: [{ name: "approve" }] } },
      { run_id: "r", call_id: "c", spec: { fn: "f", reject_options: [{ title: "no name" }] } },
      "not an object",
    ];
    for (const body of bodies) {
      const res = await hl("POST", "/function_calls", agent, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    const noMsg = await hl("POST", "/contact_requests", agent, {
      run_id: "r",
      call_id: "c",
      spec: { msg: "" },
    });
    expect(noMsg.status).toBe(400);
    const callId = id("call");
    await hl("POST", "/function_calls", agent, { run_id: "r", call_id: callId, spec: { fn: "f" } });
    const badStatus = await hl("POST", `/agent/function_calls/${callId}/respond`, reviewer, {
      approved: "yes",
    });
    expect(badStatus.status).toBe(400);
    const noRejectOptions = await hl("POST", `/agent/function_calls/${callId}/respond`, reviewer, {
      approved: false,
      reject_option_name: "later",
    });
    expect(noRejectOptions.status).toBe(400);
  });

  it("keeps calls private to their agent, and finds them for reviewers unless the id is ambiguous", async () => {
    const callId = id("shared");
    await hl("POST", "/function_calls", agent, { run_id: "r1", call_id: callId, spec: { fn: "f" } });
    expect((await hl("GET", `/function_calls/${callId}`, otherAgent)).status).toBe(404);
    expect((await hl("GET", `/function_calls/${callId}`, reviewer)).status).toBe(200);
    expect((await hl("GET", `/function_calls/${id("missing")}`, reviewer)).status).toBe(404);

    await hl("POST", "/function_calls", otherAgent, { run_id: "r2", call_id: callId, spec: { fn: "g" } });
    expect((await hl("GET", `/function_calls/${callId}`, otherAgent)).body.spec).toEqual({ fn: "g" });
    const ambiguous = await hl("POST", `/agent/function_calls/${callId}/respond`, reviewer, {
      approved: true,
    });
    expect(ambiguous.status).toBe(409);
    expect(ambiguous.body.code).toBe("ambiguous_call_id");
  });

  it("records escalations in the case, and refuses to escalate what is decided", async () => {
    const runId = id("run");
    const callId = id("call");
    await hl("POST", "/function_calls", agent, { run_id: runId, call_id: callId, spec: { fn: "f" } });
    const escalated = await hl("POST", `/agent/function_calls/${callId}/escalate_email`, agent, {
      escalation_msg: "urgent",
      additional_recipients: [{ address: "boss@acme.test", field: "cc" }],
    });
    expect(escalated.status).toBe(200);
    const timeline = await call<{ actions: { action: string; metadata: unknown; in_reply_to: unknown }[] }>(
      s.url,
      "GET",
      `/v1/cases/${runId}`,
      { key: reviewer },
    );
    expect(timeline.body.actions).toEqual([
      expect.objectContaining({
        action: "humanlayer.escalate_email",
        in_reply_to: { type: "request", id: escalated.body.countersign.request_id },
        metadata: {
          call_id: callId,
          additional_recipients: [{ address: "boss@acme.test", field: "cc" }],
          channel: null,
        },
      }),
    ]);
    await hl("POST", `/agent/function_calls/${callId}/respond`, reviewer, { approved: true });
    const late = await hl("POST", `/agent/function_calls/${callId}/escalate_email`, agent, {
      escalation_msg: "x",
    });
    expect(late.status).toBe(409);
  });

  it("reports a request that timed out as not approved, and not as a rejection", async () => {
    const callId = id("ttl");
    // Created through /v1 under a HumanLayer id, with a TTL: read back through the HumanLayer API.
    const created = await call<{ id: string }>(s.url, "POST", "/v1/requests", {
      key: agent,
      body: {
        question: "Purge?",
        tool: { name: "purge", args: { all: true } },
        ttl_seconds: 1,
        external_request_id: `humanlayer:function_call:${callId}`,
        correlation_id: "ttl-run",
      },
    });
    expect(created.status).toBe(201);
    let read = await hl("GET", `/function_calls/${callId}`, agent);
    for (let i = 0; i < 100 && read.body.status.approved === null; i++) {
      await new Promise((r) => setTimeout(r, 50));
      read = await hl("GET", `/function_calls/${callId}`, agent);
    }
    expect(read.body).toMatchObject({
      run_id: "ttl-run",
      call_id: callId,
      spec: { fn: "purge", kwargs: { all: true } },
      status: {
        approved: false,
        comment: "Countersign: nobody decided before the request timed out (it was not rejected)",
      },
      countersign: { status: "timed_out" },
    });
  });

  it("is described in the OpenAPI document", async () => {
    const doc = await call<{ paths: Record<string, unknown> }>(s.url, "GET", "/openapi.json");
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        "/humanlayer/v1/function_calls",
        "/humanlayer/v1/function_calls/{call_id}",
        "/humanlayer/v1/agent/human_contacts/{call_id}/respond",
      ]),
    );
  });
});
