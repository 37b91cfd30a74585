import Anthropic from "@anthropic-ai/sdk";
import { type ApprovalRequest, CountersignClient } from "@countersign/sdk";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../../server/src/testing/harness.ts";
import {
  DELIVERY_ACTIONS,
  ManagedAgentsBridge,
  type ManagedAgentsBridgeOptions,
  TOOL_RESULT_RECORDED,
} from "./index.ts";
import { SessionsApi } from "./testing/sessions-api.ts";

/*
 * The real `@anthropic-ai/sdk` client against a local server speaking the sessions events API,
 * and a real Countersign server; reviewers decide through Countersign's API.
 */

let s: TestServer;
let api: SessionsApi;
let anthropic: Anthropic;
let agent: CountersignClient;
let reviewer: CountersignClient;
let sessions = 0;

beforeAll(async () => {
  [s, api] = await Promise.all([startTestServer(), SessionsApi.start()]);
  const [agentKey, reviewerKey] = await Promise.all([
    s.createKey("agent", "managed-agent"),
    s.createKey("reviewer"),
  ]);
  agent = new CountersignClient({ baseUrl: s.url, apiKey: agentKey });
  reviewer = new CountersignClient({ baseUrl: s.url, apiKey: reviewerKey });
  anthropic = new Anthropic({ apiKey: "sk-ant-test", baseURL: api.url, maxRetries: 0 });
});
afterAll(async () => {
  await api.close();
  await s.close();
});
afterEach(() => {
  api.onPost = undefined;
  api.failPosts = 0;
});

const newSession = () => `sesn_test_${++sessions}`;

function bridge(extra: Partial<ManagedAgentsBridgeOptions> = {}) {
  return new ManagedAgentsBridge({
    anthropic,
    countersign: agent,
    pollSeconds: 1,
    delivery: { baseDelayMs: 5, maxDelayMs: 20 },
    ...extra,
  });
}

async function pendingRequests(session: string, count: number): Promise<ApprovalRequest[]> {
  for (let i = 0; i < 400; i++) {
    const data = (await reviewer.listRequests({ correlationId: session, status: "pending" })).data;
    if (data.length >= count) return data.sort((a, b) => a.id.localeCompare(b.id));
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`expected ${count} pending requests in ${session}`);
}

/** Plays the agent: once every blocking event is answered, it runs and ends its turn. */
function endTurnWhenAnswered(session: string, eventIds: string[]) {
  const answered = new Set<string>();
  api.onPost = (sessionId, events) => {
    if (sessionId !== session) return;
    for (const e of events) answered.add(String(e.tool_use_id ?? e.custom_tool_use_id));
    if (eventIds.every((id) => answered.has(id))) {
      api.emit(session, { type: "session.status_running" });
      api.emit(session, {
        type: "session.status_idle",
        stop_reason: { type: "end_turn" },
        stop_details: null,
      });
    }
  };
}

function requiresAction(session: string, eventIds: string[]) {
  return api.emit(session, {
    type: "session.status_idle",
    stop_reason: { type: "requires_action", event_ids: eventIds },
    stop_details: null,
  });
}

const sentTo = (session: string) => api.received.filter((r) => r.sessionId === session).map((r) => r.event);

describe("Claude Managed Agents bridge", () => {
  it("asks once per blocking event and answers tool confirmations with the decisions", async () => {
    const session = newSession();
    const watching = bridge().watch(session, { untilIdle: true });
    await api.streamOpened(session);
    const bash = api.emit(session, {
      type: "agent.tool_use",
      name: "bash",
      input: { command: "rm -rf build/" },
      evaluated_permission: "ask",
    });
    const mcp = api.emit(session, {
      type: "agent.mcp_tool_use",
      name: "create_issue",
      mcp_server_name: "github",
      input: { title: "Outage" },
      evaluated_permission: "ask",
    });
    endTurnWhenAnswered(session, [String(bash.id), String(mcp.id)]);
    requiresAction(session, [String(bash.id), String(mcp.id)]);

    const [first, second] = await pendingRequests(session, 2);
    expect(first).toMatchObject({
      external_request_id: `claude:${session}:${bash.id}`,
      correlation_id: session,
      question: "Allow the Claude agent to use bash?",
      tool: { name: "bash", args: { command: "rm -rf build/" } },
      metadata: { blocking_event_id: bash.id, blocking_event_type: "agent.tool_use" },
    });
    expect(second).toMatchObject({
      external_request_id: `claude:${session}:${mcp.id}`,
      tool: { name: "mcp__github__create_issue", args: { title: "Outage" } },
    });
    await reviewer.respond(String(first?.id), { approved: true });
    await reviewer.respond(String(second?.id), {
      approved: false,
      comment: "file it in the incident tracker",
    });

    const outcomes = await watching;
    expect(sentTo(session)).toEqual(
      expect.arrayContaining([
        { type: "user.tool_confirmation", tool_use_id: bash.id, result: "allow" },
        {
          type: "user.tool_confirmation",
          tool_use_id: mcp.id,
          result: "deny",
          deny_message: "file it in the incident tracker",
        },
      ]),
    );
    expect(sentTo(session)).toHaveLength(2);
    expect(outcomes.map((o) => [o.eventId, o.status, o.delivery.delivered]).sort()).toEqual(
      [
        [bash.id, "approved", true],
        [mcp.id, "rejected", true],
      ].sort(),
    );
    const delivered = (await agent.getCase(session)).actions.filter(
      (a) => a.action === DELIVERY_ACTIONS.delivered,
    );
    expect(delivered.map((a) => a.in_reply_to?.id).sort()).toEqual([first?.id, second?.id].sort());
  });

  it("runs a custom tool only after approval, with the approved input, and sends its result", async () => {
    const session = newSession();
    const calls: unknown[] = [];
    const watching = bridge({
      customTools: {
        refund: async (input) => {
          calls.push(input);
          return `refunded ${String(input.amount)}`;
        },
      },
    }).watch(session, { untilIdle: true });
    await api.streamOpened(session);
    const use = api.emit(session, {
      type: "agent.custom_tool_use",
      name: "refund",
      input: { order: 7, amount: 500 },
    });
    endTurnWhenAnswered(session, [String(use.id)]);
    requiresAction(session, [String(use.id)]);

    const [request] = await pendingRequests(session, 1);
    expect(calls).toEqual([]);
    await reviewer.respond(String(request?.id), { approved: true, modified_args: { order: 7, amount: 250 } });
    await watching;

    expect(calls).toEqual([{ order: 7, amount: 250 }]);
    expect(sentTo(session)).toEqual([
      {
        type: "user.custom_tool_result",
        custom_tool_use_id: use.id,
        content: [{ type: "text", text: "refunded 250" }],
      },
    ]);
    const actions = (await agent.getCase(session)).actions.map((a) => a.action);
    expect(actions).toEqual([TOOL_RESULT_RECORDED, DELIVERY_ACTIONS.delivered]);
  });

  it("creates no second request for a replayed idle event, nor after a restart", async () => {
    const session = newSession();
    const controller = new AbortController();
    const first = bridge().watch(session, { signal: controller.signal });
    await api.streamOpened(session);
    const use = api.emit(session, {
      type: "agent.tool_use",
      name: "web_fetch",
      input: { url: "https://x.test" },
    });
    requiresAction(session, [String(use.id)]);
    requiresAction(session, [String(use.id)]); // the service re-emits an idle for what is still open
    await pendingRequests(session, 1);
    controller.abort();
    await first;

    // A new bridge finds the open idle in the history and resumes the same request.
    endTurnWhenAnswered(session, [String(use.id)]);
    const second = bridge().watch(session, { untilIdle: true });
    await api.streamOpened(session);
    requiresAction(session, [String(use.id)]);
    const [request] = await pendingRequests(session, 1);
    await reviewer.respond(String(request?.id), { approved: true });
    await second;

    expect((await reviewer.listRequests({ correlationId: session })).data).toHaveLength(1);
    expect(sentTo(session)).toEqual([
      { type: "user.tool_confirmation", tool_use_id: use.id, result: "allow" },
    ]);

    // Watching again later sends nothing more: the history shows the event answered.
    const third = await bridge().watch(session, { untilIdle: true });
    expect(third).toEqual([]);
    expect(sentTo(session)).toHaveLength(1);
  });

  it("retries a failed send with backoff until it is delivered", async () => {
    const session = newSession();
    const watching = bridge().watch(session, { untilIdle: true });
    await api.streamOpened(session);
    const use = api.emit(session, {
      type: "agent.tool_use",
      name: "bash",
      input: { command: "make deploy" },
    });
    endTurnWhenAnswered(session, [String(use.id)]);
    requiresAction(session, [String(use.id)]);
    const [request] = await pendingRequests(session, 1);
    api.failPosts = 2;
    await reviewer.respond(String(request?.id), { approved: true });

    const [outcome] = await watching;
    expect(outcome?.delivery).toEqual({ delivered: true, attempts: 3, error: null });
    const delivered = (await agent.getCase(session)).actions.find(
      (a) => a.action === DELIVERY_ACTIONS.delivered,
    );
    expect(delivered?.metadata).toMatchObject({ attempts: 3, event_id: use.id });
  });

  it("dead-letters a response it cannot send, and never runs a custom tool twice", async () => {
    const session = newSession();
    const errors: unknown[] = [];
    let runs = 0;
    const customTools = {
      rotate: async () => {
        runs++;
        return "rotated";
      },
    };
    const controller = new AbortController();
    const watching = bridge({
      customTools,
      delivery: { attempts: 3, baseDelayMs: 5 },
      onError: (e) => errors.push(e),
    }).watch(session, { signal: controller.signal });
    await api.streamOpened(session);
    const use = api.emit(session, { type: "agent.custom_tool_use", name: "rotate", input: { key: "k1" } });
    requiresAction(session, [String(use.id)]);
    const [request] = await pendingRequests(session, 1);
    api.failPosts = 3;
    await reviewer.respond(String(request?.id), { approved: true });

    for (let i = 0; i < 200 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    const [outcome] = await watching;
    expect(outcome?.delivery).toMatchObject({ delivered: false, attempts: 3 });
    expect(String(errors[0])).toContain("dead-lettered");
    const deadLetter = (await agent.getCase(session)).actions.find(
      (a) => a.action === DELIVERY_ACTIONS.deadLettered,
    );
    expect(deadLetter).toMatchObject({
      severity: "error",
      outcome: "failure",
      in_reply_to: { type: "request", id: request?.id },
      metadata: {
        attempts: 3,
        response: {
          type: "user.custom_tool_result",
          custom_tool_use_id: use.id,
          content: [{ type: "text", text: "rotated" }],
        },
      },
    });
    expect(sentTo(session)).toEqual([]);

    // A new bridge delivers the recorded result without running the tool again.
    endTurnWhenAnswered(session, [String(use.id)]);
    await bridge({ customTools }).watch(session, { untilIdle: true });
    expect(runs).toBe(1);
    expect(sentTo(session)).toEqual([
      {
        type: "user.custom_tool_result",
        custom_tool_use_id: use.id,
        content: [{ type: "text", text: "rotated" }],
      },
    ]);
  });

  it("reconnects when the stream drops, and refuses to run against a session it may not read", async () => {
    const session = newSession();
    const errors: unknown[] = [];
    const watching = bridge({ onError: (e) => errors.push(e) }).watch(session, { untilIdle: true });
    await api.streamOpened(session);
    api.disconnectStreams();
    // The event arrives while the bridge is away; it finds it in the history when it is back.
    const use = api.emit(session, { type: "agent.tool_use", name: "bash", input: { command: "ls" } });
    requiresAction(session, [String(use.id)]);
    endTurnWhenAnswered(session, [String(use.id)]);
    const [request] = await pendingRequests(session, 1);
    await reviewer.respond(String(request?.id), { approved: true });
    await watching;
    expect(sentTo(session)).toEqual([
      { type: "user.tool_confirmation", tool_use_id: use.id, result: "allow" },
    ]);

    const unauthorised = new Anthropic({ apiKey: "revoked-key", baseURL: api.url, maxRetries: 0 });
    await expect(
      new ManagedAgentsBridge({ anthropic: unauthorised, countersign: agent }).watch(session, {
        untilIdle: true,
      }),
    ).rejects.toMatchObject({ status: 401 });
  });
});
