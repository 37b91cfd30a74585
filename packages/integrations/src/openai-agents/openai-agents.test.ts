import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ApprovalRequest, CountersignClient } from "@countersign/sdk";
import { Agent, run, setTracingDisabled, tool } from "@openai/agents";
import { assistantMessage, functionCall, ScriptedModel } from "@openai/agents/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { startTestServer, type TestServer } from "../../../server/src/testing/harness.ts";
import {
  FileRunStateStore,
  governedTool,
  governNeedsApproval,
  loadRunState,
  resolveInterruptions,
  saveRunState,
} from "./index.ts";
import { forgetGovernedCalls } from "./registry.ts";

/*
 * End to end: real `@openai/agents` runs driven by its own ScriptedModel, governed by a real
 * Countersign server, decided by a reviewer through Countersign's API.
 */

const POLICY = `version: 1
default: { decision: allow }
rules:
  - id: refunds
    match: { tool: issue_refund }
    decision: approval_required
    reason: "refunds need a human"
  - id: no-deletes
    match: { tool: delete_account }
    decision: deny
    reason: "accounts are never deleted by agents"
`;

setTracingDisabled(true);

let s: TestServer;
let agentKey: string;
let agentClient: CountersignClient;
let reviewer: CountersignClient;
let runs = 0;
const nextRunId = () => `run-openai-${++runs}`;

beforeAll(async () => {
  s = await startTestServer();
  let reviewerKey: string;
  [agentKey, reviewerKey] = await Promise.all([s.createKey("agent", "support-bot"), s.createKey("reviewer")]);
  agentClient = new CountersignClient({ baseUrl: s.url, apiKey: agentKey });
  reviewer = new CountersignClient({ baseUrl: s.url, apiKey: reviewerKey });
  const put = await fetch(`${s.url}/v1/policy`, {
    method: "PUT",
    headers: { authorization: `Bearer ${s.adminKey}`, "content-type": "application/json" },
    body: JSON.stringify({ source: POLICY }),
  });
  expect(put.status).toBe(200);
});
afterAll(() => s.close());

/** The tools of one "process": fresh objects each time, as after a restart. */
function makeTools(client: CountersignClient, executed: unknown[]) {
  const lookupOrder = governedTool(
    {
      name: "lookup_order",
      description: "Look an order up",
      parameters: z.object({ order: z.number() }),
      execute: async ({ order }) => {
        executed.push({ tool: "lookup_order", order });
        return `order ${order}: 2 items, $120`;
      },
    },
    { client },
  );
  const issueRefund = governedTool(
    {
      name: "issue_refund",
      description: "Refund an order",
      // The default makes the parsed arguments differ from the model's: governed calls must
      // always be asked about with the parsed ones, also after a restart.
      parameters: z.object({
        order: z.number(),
        amount: z.number().max(1000),
        currency: z.string().default("USD"),
      }),
      execute: async ({ order, amount, currency }) => {
        executed.push({ tool: "issue_refund", order, amount, currency });
        return `refunded ${amount} ${currency} on order ${order}`;
      },
    },
    { client },
  );
  const deleteAccount = governedTool(
    {
      name: "delete_account",
      description: "Delete a customer account",
      parameters: z.object({ customer: z.string() }),
      execute: async ({ customer }) => {
        executed.push({ tool: "delete_account", customer });
        return "deleted";
      },
    },
    { client },
  );
  return [lookupOrder, issueRefund, deleteAccount];
}

function makeAgent(model: ScriptedModel, client: CountersignClient, executed: unknown[]) {
  return new Agent({
    name: "support",
    instructions: "Help customers.",
    model,
    tools: makeTools(client, executed),
  });
}

/** The output the model was given for a call, as the next model request carries it. */
function toolOutput(model: ScriptedModel, callId: string): string | undefined {
  const input = model.lastCall?.request.input;
  if (!Array.isArray(input)) return undefined;
  for (const item of input) {
    const candidate = item as { type?: string; callId?: string; output?: unknown };
    if (candidate.type === "function_call_result" && candidate.callId === callId) {
      const output = candidate.output as { text?: string } | string;
      return typeof output === "string" ? output : output.text;
    }
  }
  return undefined;
}

async function pendingRequestOf(runId: string): Promise<ApprovalRequest> {
  for (let i = 0; i < 200; i++) {
    const page = await reviewer.listRequests({ correlationId: runId, status: "pending" });
    const first = page.data[0];
    if (first) return first;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no pending request for ${runId}`);
}

describe("OpenAI Agents SDK", () => {
  it("runs allowed calls without interruption and an approved call once a reviewer approves", async () => {
    const runId = nextRunId();
    const executed: unknown[] = [];
    const model = new ScriptedModel([
      [functionCall("lookup_order", { order: 7 }, { callId: "call_lookup" })],
      [functionCall("issue_refund", { order: 7, amount: 120 }, { callId: "call_refund" })],
      [assistantMessage("Refunded.")],
    ]);
    const agent = makeAgent(model, agentClient, executed);

    let result = await run(agent, "Refund order 7", { context: { runId } });
    // The lookup was allowed and ran; the refund stopped the run for approval.
    expect(executed).toEqual([{ tool: "lookup_order", order: 7 }]);
    expect(result.interruptions.map((i) => i.name)).toEqual(["issue_refund"]);

    // resolveInterruptions waits; a reviewer approves meanwhile.
    const resolving = resolveInterruptions(result, { client: agentClient, pollSeconds: 1 });
    const request = await pendingRequestOf(runId);
    expect(request.external_request_id).toBe(`govern:${runId}:call_refund`);
    expect(request.tool?.args).toEqual({ order: 7, amount: 120, currency: "USD" });
    await reviewer.respond(request.id, { approved: true, comment: "fine" });
    const resolved = await resolving;
    expect(resolved.ready).toBe(true);
    expect(resolved.outcomes.map((o) => [o.status, o.requestId])).toEqual([["approved", request.id]]);

    result = await run(agent, resolved.state);
    expect(result.finalOutput).toBe("Refunded.");
    expect(executed).toEqual([
      { tool: "lookup_order", order: 7 },
      { tool: "issue_refund", order: 7, amount: 120, currency: "USD" },
    ]);
    expect(toolOutput(model, "call_refund")).toBe("refunded 120 USD on order 7");
    model.assertComplete();

    // What was approved is what ran: the single-use token was consumed for exactly those arguments.
    const timeline = await agentClient.getCase(runId);
    expect(timeline.timeline.map((e) => e.kind)).toContain("token.consumed");
  });

  it("rejects with the reviewer's comment, which the model receives, and never runs the tool", async () => {
    const runId = nextRunId();
    const executed: unknown[] = [];
    const model = new ScriptedModel([
      [functionCall("issue_refund", { order: 8, amount: 900 }, { callId: "call_refund" })],
      [assistantMessage("I could not refund that.")],
    ]);
    const agent = makeAgent(model, agentClient, executed);
    let result = await run(agent, "Refund order 8", { context: { runId } });
    expect(result.interruptions).toHaveLength(1);

    // Come back later: the request exists (idempotently: twice is still one request) and waits.
    const first = await resolveInterruptions(result, { client: agentClient, wait: false });
    const again = await resolveInterruptions(result, { client: agentClient, wait: false });
    expect(first.ready).toBe(false);
    expect(again.pending[0]?.requestId).toBe(first.pending[0]?.requestId);
    const requestId = first.pending[0]?.requestId as string;
    await reviewer.respond(requestId, { approved: false, comment: "amount too large without a receipt" });

    const resolved = await resolveInterruptions(result, { client: agentClient });
    expect(resolved.outcomes[0]).toMatchObject({
      status: "rejected",
      message: "amount too large without a receipt",
    });
    result = await run(agent, resolved.state);
    expect(result.finalOutput).toBe("I could not refund that.");
    expect(executed).toEqual([]);
    expect(toolOutput(model, "call_refund")).toBe("amount too large without a receipt");
  });

  it("refuses a call the policy denies, with the reason and without an interruption", async () => {
    const runId = nextRunId();
    const executed: unknown[] = [];
    const model = new ScriptedModel([
      [functionCall("delete_account", { customer: "c-1" }, { callId: "call_delete" })],
      [assistantMessage("I am not allowed to delete accounts.")],
    ]);
    const result = await run(makeAgent(model, agentClient, executed), "Delete c-1", { context: { runId } });
    expect(result.interruptions).toEqual([]);
    expect(result.finalOutput).toBe("I am not allowed to delete accounts.");
    expect(executed).toEqual([]);
    expect(toolOutput(model, "call_delete")).toBe(
      "Countersign denied this call (policy_denied): accounts are never deleted by agents",
    );
  });

  it("resumes after a restart between the interruption and the decision, with the edited arguments", async () => {
    const runId = nextRunId();
    const dir = mkdtempSync(join(tmpdir(), "countersign-openai-"));
    try {
      // Process 1: the run stops for approval and is parked under its request id.
      const executed1: unknown[] = [];
      const model1 = new ScriptedModel([
        [functionCall("issue_refund", { order: 9, amount: 500 }, { callId: "call_refund" })],
      ]);
      const result = await run(makeAgent(model1, agentClient, executed1), "Refund order 9", {
        context: { runId },
      });
      const parked = await resolveInterruptions(result, { client: agentClient, wait: false });
      const [requestId] = await saveRunState(new FileRunStateStore(dir), parked);
      expect(requestId).toMatch(/^req_/);

      // Meanwhile a reviewer approves half the amount.
      await reviewer.respond(requestId as string, {
        approved: true,
        comment: "half now",
        modified_args: { order: 9, amount: 250, currency: "EUR" },
      });

      // Process 2: new agent, tools, model and client; only the store and the request id survive.
      forgetGovernedCalls();
      const executed2: unknown[] = [];
      const client2 = new CountersignClient({ baseUrl: s.url, apiKey: agentKey });
      const model2 = new ScriptedModel([[assistantMessage("Refunded $250.")]]);
      const agent2 = makeAgent(model2, client2, executed2);
      const loaded = await loadRunState(new FileRunStateStore(dir), agent2, requestId as string);
      if (!loaded) throw new Error("the parked run was not found by its request id");
      expect(loaded.requestIds).toEqual([requestId]);
      const resolved = await resolveInterruptions(loaded.state, { client: client2 });
      expect(resolved.outcomes[0]?.status).toBe("approved");
      const resumed = await run(agent2, resolved.state);

      expect(resumed.finalOutput).toBe("Refunded $250.");
      expect(executed1).toEqual([]);
      expect(executed2).toEqual([{ tool: "issue_refund", order: 9, amount: 250, currency: "EUR" }]);
      expect(toolOutput(model2, "call_refund")).toBe("refunded 250 EUR on order 9");
      const timeline = await client2.getCase(runId);
      const consumed = timeline.timeline.find((e) => e.kind === "token.consumed");
      expect(consumed?.data).toMatchObject({ request_id: requestId });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("settles a denied call with the reason when only needsApproval is governed", async () => {
    const runId = nextRunId();
    const executed: string[] = [];
    const dropTable = tool({
      name: "delete_account",
      description: "Delete a customer account",
      parameters: z.object({ customer: z.string() }),
      needsApproval: governNeedsApproval("delete_account", { client: agentClient }),
      execute: async ({ customer }) => {
        executed.push(customer);
        return "deleted";
      },
    });
    const model = new ScriptedModel([
      [functionCall("delete_account", { customer: "c-2" }, { callId: "call_delete" })],
      [assistantMessage("Not allowed.")],
    ]);
    const agent = new Agent({ name: "support", instructions: "x", model, tools: [dropTable] });
    let result = await run(agent, "Delete c-2", { context: { runId } });
    // Without a governed execute, the only safe answer to a denial is to stop the call...
    expect(result.interruptions).toHaveLength(1);
    // ...which resolveInterruptions settles at once, with the policy's reason and no reviewer.
    const resolved = await resolveInterruptions(result, { client: agentClient });
    expect(resolved.outcomes[0]).toMatchObject({ status: "denied", requestId: null });
    result = await run(agent, resolved.state);
    expect(executed).toEqual([]);
    expect(toolOutput(model, "call_delete")).toContain("accounts are never deleted by agents");
  });

  it("opens an idempotent openai:{runId}:{callId} request for a tool nobody governed", async () => {
    const runId = nextRunId();
    const executed: string[] = [];
    const sendEmail = tool({
      name: "send_email",
      description: "Send an email",
      parameters: z.object({ to: z.string() }),
      needsApproval: true,
      execute: async ({ to }) => {
        executed.push(to);
        return "sent";
      },
    });
    const model = new ScriptedModel([
      [functionCall("send_email", { to: "cfo@acme.test" }, { callId: "call_mail" })],
      [assistantMessage("Sent.")],
    ]);
    const agent = new Agent({ name: "mailer", instructions: "x", model, tools: [sendEmail] });
    let result = await run(agent, "Mail the CFO", { context: { runId } });

    const parked = await resolveInterruptions(result, { client: agentClient, wait: false });
    const replay = await resolveInterruptions(result, { client: agentClient, wait: false });
    const requestId = parked.pending[0]?.requestId as string;
    expect(replay.pending[0]?.requestId).toBe(requestId);
    const request = await reviewer.getRequest(requestId);
    expect(request).toMatchObject({
      external_request_id: `openai:${runId}:call_mail`,
      correlation_id: runId,
      tool: { name: "send_email", args: { to: "cfo@acme.test" } },
    });
    expect((await reviewer.listRequests({ correlationId: runId })).data).toHaveLength(1);

    await reviewer.respond(requestId, { approved: true });
    const resolved = await resolveInterruptions(result, { client: agentClient });
    result = await run(agent, resolved.state);
    expect(result.finalOutput).toBe("Sent.");
    expect(executed).toEqual(["cfo@acme.test"]);
  });
});
