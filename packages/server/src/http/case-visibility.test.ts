import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STORAGE_KINDS, startTestServer, type TestServer } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";
import { addReviewer } from "../testing/reviewers.ts";
import { waitForDeliveries } from "../webhooks/http-test-setup.ts";
import { type Receiver, startReceiver } from "../webhooks/testing.ts";

interface Entry {
  seq: number;
  kind: string;
  subject_id: string;
  data: Record<string, unknown>;
}

interface Case {
  requests: Array<{ id: string }>;
  actions: Array<{ id: string }>;
  timeline: Entry[];
}

/** The seq of the entry a webhook message announced (`msg_<seq>_<hash>`). */
const announcedSeq = (e: Entry) => Number(String(e.data.message_id).split("_")[1]);

describe.each(STORAGE_KINDS)("what a case shows a reviewer (%s)", (storage) => {
  let s: TestServer;
  let receiver: Receiver;
  let agent: string;
  let ops: string;

  beforeAll(async () => {
    s = await startTestServer({ storage, config: { outboundAllowlist: ["127.0.0.1/32"] } });
    receiver = await startReceiver();
    agent = await s.createKey("agent");
    ops = await s.createKey("reviewer", "ops reviewer");
    await addReviewer(s, { key: ops, name: "Olga", roles: ["ops"] });
  });
  afterAll(async () => {
    await s.close();
    await receiver.close();
  });

  const createRequest = async (body: Record<string, unknown>) => {
    const res = await call<{ id: string }>(s.url, "POST", "/v1/requests", {
      key: agent,
      body: { question: "?", ...body },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id;
  };
  const logAction = async (body: Record<string, unknown>) => {
    const res = await call<{ id: string }>(s.url, "POST", "/v1/actions", {
      key: agent,
      body: { action: "tool.ran", summary: "done", ...body },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id;
  };
  const caseAs = async (key: string, id: string) => {
    const res = await call<Case>(s.url, "GET", `/v1/cases/${id}`, { key });
    expect(res.status).toBe(200);
    return res.body;
  };

  it("hides actions replying to a request the reviewer may not see, and the deliveries about it", async () => {
    const hook = await call(s.url, "POST", "/v1/webhooks", {
      key: s.adminKey,
      body: { url: `${receiver.url}/events`, events: ["request.created", "action.logged"] },
    });
    expect(hook.status).toBe(201);
    const finance = await createRequest({ correlation_id: "case-split", required_roles: ["finance"] });
    const mine = await createRequest({ correlation_id: "case-split", required_roles: ["ops"] });
    // Replies join the case of the request they answer.
    const secretReply = await logAction({ in_reply_to: { type: "request", id: finance } });
    const openReply = await logAction({ in_reply_to: { type: "request", id: mine } });
    const note = await logAction({ correlation_id: "case-split" });
    // A reply filed under another case still belongs to the request it answers.
    const elsewhere = await logAction({
      correlation_id: "case-elsewhere",
      in_reply_to: { type: "request", id: finance },
    });
    for (const subject of [finance, mine, secretReply, openReply, note, elsewhere])
      await waitForDeliveries(
        s,
        subject,
        (all) => all.length > 0 && all.every((d) => d.status === "delivered"),
      );

    const admin = await caseAs(s.adminKey, "case-split");
    const seqOf = new Map(admin.timeline.map((e) => [e.seq, e.subject_id]));
    const deliveredAbout = (c: Case) =>
      c.timeline.filter((e) => e.kind.startsWith("webhook.")).map((e) => seqOf.get(announcedSeq(e)));
    // The admin sees everything, deliveries included, so there is something to hide.
    expect(admin.requests.map((r) => r.id).sort()).toEqual([finance, mine].sort());
    expect(admin.actions.map((a) => a.id).sort()).toEqual([secretReply, openReply, note].sort());
    expect(deliveredAbout(admin)).toEqual(
      expect.arrayContaining([finance, secretReply, mine, openReply, note]),
    );

    const seen = await caseAs(ops, "case-split");
    expect(seen.requests.map((r) => r.id)).toEqual([mine]);
    expect(seen.actions.map((a) => a.id).sort()).toEqual([openReply, note].sort());
    const subjects = seen.timeline.map((e) => e.subject_id);
    expect(subjects).not.toContain(finance);
    expect(subjects).not.toContain(secretReply);
    expect(subjects).toEqual(expect.arrayContaining([mine, openReply, note]));
    const about = deliveredAbout(seen);
    expect(about.length).toBeGreaterThan(0);
    expect(about).not.toContain(finance);
    expect(about).not.toContain(secretReply);
    expect(about).toEqual(expect.arrayContaining([mine, openReply, note]));

    const other = await caseAs(ops, "case-elsewhere");
    expect(other.actions).toEqual([]);
    expect(other.timeline).toEqual([]);
    expect((await caseAs(s.adminKey, "case-elsewhere")).actions.map((a) => a.id)).toEqual([elsewhere]);
  });
});
