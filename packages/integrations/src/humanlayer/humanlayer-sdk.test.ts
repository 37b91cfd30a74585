import { type ApprovalRequest, CountersignClient } from "@countersign/sdk";
import { type HumanLayer, humanlayer } from "@humanlayer/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STORAGE_KINDS, startTestServer, type TestServer } from "../../../server/src/testing/harness.ts";

/*
 * The real `@humanlayer/sdk`, configured the way its users configure it (HUMANLAYER_API_BASE and
 * HUMANLAYER_API_KEY), talking to a real Countersign server; reviewers decide through
 * Countersign's own API. The SDK's 3-second polling sleep is injected so the suite runs fast.
 */

const fastSleep = () => new Promise<void>((resolve) => setTimeout(resolve, 5));

describe.each(STORAGE_KINDS)("@humanlayer/sdk against Countersign (%s)", (storage) => {
  let s: TestServer;
  let reviewer: CountersignClient;
  let runs = 0;
  const saved = { base: process.env.HUMANLAYER_API_BASE, key: process.env.HUMANLAYER_API_KEY };

  beforeAll(async () => {
    s = await startTestServer({ storage });
    const [agentKey, reviewerKey] = await Promise.all([
      s.createKey("agent", "hl-agent"),
      s.createKey("reviewer"),
    ]);
    process.env.HUMANLAYER_API_BASE = `${s.url}/humanlayer/v1`;
    process.env.HUMANLAYER_API_KEY = agentKey;
    reviewer = new CountersignClient({ baseUrl: s.url, apiKey: reviewerKey });
  });
  afterAll(async () => {
    restore("HUMANLAYER_API_BASE", saved.base);
    restore("HUMANLAYER_API_KEY", saved.key);
    await s.close();
  });

  const newRunId = () => `hl-${storage}-${++runs}`;
  const client = (runId: string, extra: ConstructorParameters<typeof HumanLayer>[0] = {}) =>
    humanlayer({ runId, sleep: fastSleep, ...extra });

  async function pending(runId: string): Promise<ApprovalRequest> {
    for (let i = 0; i < 400; i++) {
      const first = (await reviewer.listRequests({ correlationId: runId, status: "pending" })).data[0];
      if (first) return first;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no pending request for ${runId}`);
  }

  it("requireApproval runs the function once a reviewer approves it in Countersign", async () => {
    const runId = newRunId();
    const sent: unknown[] = [];
    async function send_email(kwargs: { to: string; subject: string }) {
      sent.push(kwargs);
      return `sent to ${kwargs.to}`;
    }
    const approved = client(runId).requireApproval()(send_email);
    const calling = approved({ to: "cfo@acme.test", subject: "Q3" });

    const request = await pending(runId);
    expect(request).toMatchObject({
      type: "approval",
      question: "Allow the agent to call send_email?",
      tool: { name: "send_email", args: { to: "cfo@acme.test", subject: "Q3" } },
      correlation_id: runId,
      source: { integration: "humanlayer", run_id: runId },
    });
    expect(request.external_request_id).toMatch(/^humanlayer:function_call:call-[0-9a-f]{8}$/);
    expect(sent).toEqual([]);

    await reviewer.respond(request.id, { approved: true, comment: "go" });
    expect(await calling).toBe("sent to cfo@acme.test");
    expect(sent).toEqual([{ to: "cfo@acme.test", subject: "Q3" }]);
  });

  it("requireApproval reports a rejection with the reviewer's comment and does not run", async () => {
    const runId = newRunId();
    let ran = false;
    async function wire_money(_kwargs: { amount: number }) {
      ran = true;
      return "wired";
    }
    const calling = client(runId).requireApproval()(wire_money)({ amount: 90_000 });
    const request = await pending(runId);
    await reviewer.respond(request.id, { approved: false, comment: "needs a second signature" });
    expect(await calling).toBe("User denied function wire_money with comment: needs a second signature");
    expect(ran).toBe(false);
  });

  it("humanAsTool returns the answer a reviewer gives to the input request", async () => {
    const runId = newRunId();
    const asking = client(runId).humanAsTool()({ message: "Which warehouse should ship order 7?" });
    const request = await pending(runId);
    expect(request).toMatchObject({ type: "input", question: "Which warehouse should ship order 7?" });
    expect(request.external_request_id).toMatch(/^humanlayer:human_contact:human_call-[0-9a-f]{8}$/);
    await reviewer.respond(request.id, { answer: "Rotterdam" });
    expect(await asking).toBe("Rotterdam");
  });

  it("turns reject_options and response_options into the request's options", async () => {
    const runId = newRunId();
    const hl = client(runId);
    const approving = hl.fetchHumanApproval({
      spec: {
        fn: "deploy",
        kwargs: { service: "api", version: "1.4.0" },
        reject_options: [
          { name: "wrong_version", title: "Wrong version", prompt_fill: "deploy 1.3.9 instead" },
          { name: "not_now", title: "Not now" },
        ],
      },
    });
    const request = await pending(runId);
    expect(request.type).toBe("decision");
    expect(request.options).toEqual([
      { name: "approve", title: "Approve" },
      { name: "wrong_version", title: "Wrong version" },
      { name: "not_now", title: "Not now" },
    ]);
    await reviewer.respond(request.id, { option: "wrong_version", comment: "1.4.0 is not released" });
    expect(await approving).toMatchObject({
      approved: false,
      reject_option_name: "wrong_version",
      comment: "1.4.0 is not released",
    });

    const choosing = hl.fetchHumanResponse({
      spec: {
        msg: "Refund or replace the broken kettle?",
        response_options: [
          { name: "refund", title: "Refund it" },
          { name: "replace", title: "Send a new one" },
        ],
      },
    });
    const question = await pending(runId);
    expect(question).toMatchObject({ type: "decision", question: "Refund or replace the broken kettle?" });
    await reviewer.respond(question.id, { option: "replace" });
    expect(await choosing).toBe("Send a new one");
  });

  it("creates a call idempotently on its call_id, and refuses the id for another call", async () => {
    const runId = newRunId();
    const hl = client(runId, { genid: (prefix) => `${prefix}-fixed` });
    const spec = { fn: "close_ticket", kwargs: { ticket: 42 } };
    const first = await hl.createFunctionCall({ spec: { ...spec } });
    const again = await hl.createFunctionCall({ spec: { ...spec } });
    expect(again).toEqual(first);
    expect(first).toMatchObject({ run_id: runId, call_id: "call-fixed", spec, status: { approved: null } });
    expect((await reviewer.listRequests({ correlationId: runId })).data).toHaveLength(1);
    await expect(
      hl.createFunctionCall({ spec: { fn: "close_ticket", kwargs: { ticket: 43 } } }),
    ).rejects.toThrow(/^POST \/function_calls 409: .*idempotency_mismatch/);
    const read = await hl.getFunctionCall("call-fixed");
    expect(read).toEqual(first);
  });

  it("escalate_email records the escalation in the request's case", async () => {
    const runId = newRunId();
    const hl = client(runId, { genid: (prefix) => `${prefix}-esc` });
    await hl.createFunctionCall({ spec: { fn: "rotate_keys", kwargs: {} } });
    const escalated = await hl.escalateEmailFunctionCall("call-esc", {
      escalation_msg: "Still waiting after an hour",
      additional_recipients: [{ address: "oncall@acme.test", field: "to" }],
    });
    expect(escalated).toMatchObject({ call_id: "call-esc", status: { approved: null } });
    const contact = await hl.createHumanContact({ spec: { msg: "Is the datacenter cold?" } });
    await hl.escalateEmailHumanContact(contact.call_id, { escalation_msg: "Please answer" });

    const timeline = await reviewer.getCase(runId);
    const actions = timeline.actions.map((a) => [a.action, a.summary, a.severity]);
    expect(actions).toEqual([
      ["humanlayer.escalate_email", "Still waiting after an hour", "warning"],
      ["humanlayer.escalate_email", "Please answer", "warning"],
    ]);
  });

  it("reports a cancelled call as not approved, saying why, so the waiting agent stops polling", async () => {
    const runId = newRunId();
    const hl = client(runId, { genid: (prefix) => `${prefix}-cancel` });
    const waiting = hl.requireApproval()(async function purge_cache() {
      return "purged";
    })({});
    const request = await pending(runId);
    const agent = new CountersignClient({ baseUrl: s.url, apiKey: process.env.HUMANLAYER_API_KEY as string });
    await agent.cancel(request.id, "superseded");
    expect(await waiting).toBe(
      "User denied function purge_cache with comment: Countersign: the request was cancelled: superseded",
    );
  });
});

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}
