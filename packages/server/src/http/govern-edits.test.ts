// Govern over HTTP when reviewers edit the arguments: the approval token binds the approved (edited)
// arguments, and an edit can never need roles or a quorum the request does not already require.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyApprovalToken } from "../../../sdk/src/approval-token.ts";
import { STORAGE_KINDS, startTestServer, type TestServer } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";
import { addReviewer, auditEntries } from "../testing/reviewers.ts";
import { type Gov, useGovernHttp } from "./govern-test-setup.ts";

describe.each(STORAGE_KINDS)("govern (%s)", (storage) => {
  const g = useGovernHttp(storage);
  const { govern, nextRun } = g;

  it("resumes a parked call with a token bound to the approved (edited) arguments", async () => {
    const { s, agent, reviewer } = g;
    const runId = nextRun();
    const parked = await govern({
      run_id: runId,
      call_id: "pay",
      tool: "payments.send",
      args: { amount: 5000 },
    });
    const id = parked.body.request_id;
    const deniedEdit = await call<{ code: string }>(s.url, "POST", `/v1/requests/${id}/respond`, {
      key: reviewer,
      body: { approved: true, modified_args: { amount: 250000 } },
    });
    expect(deniedEdit.status).toBe(403);
    expect(deniedEdit.body.code).toBe("edit_denied");
    const approved = await call<{ status: string; approval_token?: string }>(
      s.url,
      "POST",
      `/v1/requests/${id}/respond`,
      {
        key: reviewer,
        body: { approved: true, comment: "split in two", modified_args: { amount: 2500 } },
      },
    );
    expect(approved.body.status).toBe("approved");
    // Only the agent that asked (and admins) see the token, not the reviewer who approved.
    expect(approved.body).not.toHaveProperty("approval_token");

    const resumed = await govern({
      run_id: runId,
      call_id: "pay",
      tool: "payments.send",
      args: { amount: 5000 },
    });
    expect(resumed.body).toMatchObject({
      request_status: "approved",
      approved_args: { amount: 2500 },
      review_comment: "split in two",
    });
    expect(resumed.body.approval_token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const asAgent = await call<{ approval_token?: string }>(s.url, "GET", `/v1/requests/${id}`, {
      key: agent,
    });
    expect(asAgent.body.approval_token).toBe(resumed.body.approval_token);

    const jwks = await call<{ keys: JsonWebKey[] }>(s.url, "GET", "/.well-known/jwks.json");
    const token = resumed.body.approval_token as string;
    await expect(
      verifyApprovalToken(token, { tool: "payments.send", args: { amount: 2500 } }, jwks.body),
    ).resolves.toMatchObject({ request_id: id });
    await expect(
      verifyApprovalToken(token, { tool: "payments.send", args: { amount: 5000 } }, jwks.body),
    ).rejects.toThrow();

    const consume = (args: unknown) =>
      call<{ code?: string }>(s.url, "POST", "/v1/tokens/consume", {
        key: agent,
        body: { token, tool: "payments.send", args },
      });
    expect((await consume({ amount: 5000 })).status).toBe(403);
    expect((await consume({ amount: 2500 })).status).toBe(200);
    const twice = await consume({ amount: 2500 });
    expect(twice.status).toBe(409);
  });
});

/** Payments up to 1000 need one ops approval; above, two finance approvals. */
const TIERED_PAYMENTS = `version: 1
default: { decision: allow }
rules:
  - id: payments-cap
    match: { tool: "payments.send", args: "args.amount > 10000000" }
    decision: deny
    reason: "payments above 10000000 are never allowed"
  - id: payments-small
    match: { tool: "payments.send", args: "args.amount <= 1000" }
    decision: approval_required
    required_roles: [ops]
    required_approvals: 1
    reason: "payments up to 1000 need ops approval"
  - id: payments-large
    match: { tool: "payments.send", args: "args.amount > 1000" }
    decision: approval_required
    required_roles: [finance]
    required_approvals: 2
    reason: "payments above 1000 need two finance approvals"
`;

describe.each(STORAGE_KINDS)("edits cannot escape the policy's roles and quorum (%s)", (storage) => {
  let s: TestServer;
  let agent: string;
  let ops: string;
  let fin1: string;
  let fin2: string;
  let run = 0;
  const nextRun = () => `edit-${storage}-${++run}`;

  beforeAll(async () => {
    s = await startTestServer({ storage });
    [agent, ops, fin1, fin2] = await Promise.all([
      s.createKey("agent", "billing-bot"),
      s.createKey("reviewer"),
      s.createKey("reviewer"),
      s.createKey("reviewer"),
    ]);
    await addReviewer(s, { key: ops, name: "Otto", roles: ["ops"] });
    await addReviewer(s, { key: fin1, name: "Fiona", roles: ["finance"] });
    await addReviewer(s, { key: fin2, name: "Finn", roles: ["finance"] });
    const put = await call(s.url, "PUT", "/v1/policy", {
      key: s.adminKey,
      body: { source: TIERED_PAYMENTS },
    });
    expect(put.status).toBe(200);
  });
  afterAll(() => s.close());

  type Req = {
    id: string;
    status: string;
    required_roles: string[];
    required_approvals: number;
    approval_token?: string | null;
    response: { modified_args: unknown } | null;
    pending_edits: Array<{ args: unknown }>;
    code?: string;
    detail?: string;
  };
  const park = async (amount: number) => {
    const parked = await call<Gov>(s.url, "POST", "/v1/govern", {
      key: agent,
      body: { run_id: nextRun(), call_id: "pay", tool: "payments.send", args: { amount, to: "acct-1" } },
    });
    expect(parked.body.decision).toBe("approval_required");
    return parked.body.request_id as string;
  };
  const respond = (id: string, key: string, body: Record<string, unknown>) =>
    call<Req>(s.url, "POST", `/v1/requests/${id}/respond`, { key, body });
  const read = async (id: string) =>
    (await call<Req>(s.url, "GET", `/v1/requests/${id}`, { key: s.adminKey })).body;
  const reviewsOf = async (id: string) =>
    (await auditEntries(s, id)).filter((e) => e.kind === "review.recorded");

  it("refuses an ops reviewer who edits a 100 payment into 5000000 (the reported exploit)", async () => {
    const id = await park(100);
    expect(await read(id)).toMatchObject({ required_roles: ["ops"], required_approvals: 1 });
    const exploit = await respond(id, ops, {
      approved: true,
      modified_args: { amount: 5000000, to: "acct-1" },
    });
    expect(exploit.status).toBe(403);
    expect(exploit.body.code).toBe("edit_denied");
    expect(exploit.body.detail).toContain("payments-large");
    expect(exploit.body.detail).toContain("payments above 1000 need two finance approvals");
    // Nothing was recorded: the request is still pending, with no token and no review.
    const after = await read(id);
    expect(after).toMatchObject({ status: "pending", response: null, pending_edits: [] });
    expect(after.approval_token ?? null).toBeNull();
    expect(await reviewsOf(id)).toHaveLength(0);
    // The ops reviewer may still decide the call as proposed, or edit it within their remit.
    const within = await respond(id, ops, { approved: true, modified_args: { amount: 90, to: "acct-1" } });
    expect(within.status).toBe(200);
    expect(within.body).toMatchObject({
      status: "approved",
      response: { modified_args: { amount: 90, to: "acct-1" } },
    });
    expect((await read(id)).approval_token).toEqual(expect.any(String));
  });

  it("refuses an edit needing a role the request does not require, even with fewer approvals", async () => {
    const id = await park(5000);
    expect(await read(id)).toMatchObject({ required_roles: ["finance"], required_approvals: 2 });
    const smaller = await respond(id, fin1, { approved: true, modified_args: { amount: 500, to: "acct-1" } });
    expect(smaller.status).toBe(403);
    expect(smaller.body.code).toBe("edit_denied");
    expect(smaller.body.detail).toContain("payments-small");
    const denied = await respond(id, fin1, { approved: true, modified_args: { amount: 20000000, to: "x" } });
    expect(denied.status).toBe(403);
    expect(denied.body.detail).toContain("payments-cap");
    // An edit under the same requirements is fine, and needs the full quorum for exactly those arguments.
    const edit = { amount: 4000, to: "acct-1" };
    const first = await respond(id, fin1, { approved: true, modified_args: edit });
    expect(first.body).toMatchObject({ status: "pending", pending_edits: [{ args: edit }] });
    const second = await respond(id, fin2, { approved: true, modified_args: { to: "acct-1", amount: 4000 } });
    expect(second.body).toMatchObject({ status: "approved", response: { modified_args: edit } });
    expect((await read(id)).approval_token).toEqual(expect.any(String));
  });

  it("lets through an edit the policy would simply allow", async () => {
    const id = await park(100);
    // No amount: no payments rule matches, and the default allows the call.
    const allowed = await respond(id, ops, {
      approved: true,
      modified_args: { to: "acct-1", note: "refund" },
    });
    expect(allowed.status).toBe(200);
    expect(allowed.body.status).toBe("approved");
  });
});
