import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STORAGE_KINDS, startTestServer, type TestServer } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";

type Entry = { seq: number; kind: string; subject_id: string; data: Record<string, unknown> };

describe.each(STORAGE_KINDS)("audit log, actions and cases (%s)", (storage) => {
  let s: TestServer;
  let agent: string;
  let otherAgent: string;
  let reviewer: string;
  beforeAll(async () => {
    s = await startTestServer({ storage });
    [agent, otherAgent, reviewer] = await Promise.all([
      s.createKey("agent"),
      s.createKey("agent"),
      s.createKey("reviewer"),
    ]);
  });
  afterAll(() => s.close());

  it("records every state change in one verifiable chain and builds the case timeline", async () => {
    const runId = `run-${storage}-1`;
    const created = await call<{ id: string }>(s.url, "POST", "/v1/requests", {
      key: agent,
      body: {
        question: "Refund?",
        source: { integration: "test", run_id: runId },
        tool: { name: "refund", args: { id: 1 } },
      },
    });
    await call(s.url, "POST", `/v1/requests/${created.body.id}/respond`, {
      key: reviewer,
      body: { approved: true, modified_args: { id: 2 } },
    });
    const action = await call<{ id: string; correlation_id: string }>(s.url, "POST", "/v1/actions", {
      key: agent,
      body: {
        action: "refund.issued",
        summary: "Refunded order 2",
        in_reply_to: { type: "request", id: created.body.id },
        outcome: "success",
        severity: "notice",
      },
    });
    expect(action.status).toBe(201);
    expect(action.body.correlation_id).toBe(runId);

    const c = await call<{ requests: unknown[]; actions: unknown[]; timeline: Entry[] }>(
      s.url,
      "GET",
      `/v1/cases/${runId}`,
      { key: reviewer },
    );
    expect(c.body.requests).toHaveLength(1);
    expect(c.body.actions).toHaveLength(1);
    expect(c.body.timeline.map((e) => e.kind)).toEqual([
      "request.created",
      "review.recorded",
      "request.approved",
      "action.logged",
    ]);
    const approved = c.body.timeline.find((e) => e.kind === "request.approved");
    expect(approved?.data.proposed_args_hash).not.toEqual(approved?.data.approved_args_hash);
    const seqs = c.body.timeline.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));

    // Another agent sees nothing of this case.
    const foreign = await call<{ requests: unknown[]; timeline: unknown[] }>(
      s.url,
      "GET",
      `/v1/cases/${runId}`,
      {
        key: otherAgent,
      },
    );
    expect(foreign.body.requests).toHaveLength(0);
    expect(foreign.body.timeline).toHaveLength(0);

    const verify = await call<{ ok: boolean; entries: number }>(s.url, "GET", "/v1/audit/verify", {
      key: s.adminKey,
    });
    expect(verify.body.ok).toBe(true);
  });

  it("pages through the audit log in seq order", async () => {
    const first = await call<{ data: Entry[]; next_after_seq: number | null }>(
      s.url,
      "GET",
      "/v1/audit?limit=2",
      {
        key: s.adminKey,
      },
    );
    expect(first.body.data).toHaveLength(2);
    expect(first.body.next_after_seq).toBe(first.body.data[1]?.seq);
    const second = await call<{ data: Entry[] }>(
      s.url,
      "GET",
      `/v1/audit?limit=2&after_seq=${first.body.next_after_seq}`,
      {
        key: s.adminKey,
      },
    );
    expect(second.body.data[0]?.seq).toBe((first.body.next_after_seq ?? 0) + 1);
  });

  it("refuses to log a reply to a request the agent cannot see", async () => {
    const created = await call<{ id: string }>(s.url, "POST", "/v1/requests", {
      key: agent,
      body: { question: "x" },
    });
    const res = await call(s.url, "POST", "/v1/actions", {
      key: otherAgent,
      body: { action: "x", summary: "x", in_reply_to: { type: "request", id: created.body.id } },
    });
    expect(res.status).toBe(404);
  });
});
