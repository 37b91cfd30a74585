import type { ApprovalRequest } from "@countersign/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STORAGE_KINDS, startTestServer, type TestServer } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";
import { addReviewer, auditEntries, keyIdOf } from "../testing/reviewers.ts";

type Answer = ApprovalRequest & { code?: string; detail?: string };

describe.each(STORAGE_KINDS)("quorum and separation of duties (%s)", (storage) => {
  let s: TestServer;
  let agent: string;
  let ann: string;
  let bob: string;
  let owner: string; // a finance reviewer who owns the agent key
  let legal: string;
  let issuerAdmin: string; // an admin key, linked to a finance reviewer, that issued `issued`
  let issued: string; // an agent key created by issuerAdmin

  beforeAll(async () => {
    s = await startTestServer({ storage });
    [agent, ann, bob, owner, legal, issuerAdmin] = await Promise.all([
      s.createKey("agent"),
      s.createKey("reviewer"),
      s.createKey("reviewer"),
      s.createKey("reviewer"),
      s.createKey("reviewer"),
      s.createKey("admin"),
    ]);
    const made = await call<{ secret: string }>(s.url, "POST", "/v1/keys", {
      key: issuerAdmin,
      body: { role: "agent", name: "issued-bot" },
    });
    issued = made.body.secret;
    await addReviewer(s, { key: ann, name: "Ann", roles: ["finance"] });
    await addReviewer(s, { key: bob, name: "Bob", roles: ["finance", "legal"] });
    await addReviewer(s, {
      key: owner,
      name: "Owen",
      roles: ["finance"],
      owns_agent_keys: [await keyIdOf(s, agent)],
    });
    await addReviewer(s, { key: legal, name: "Lea", roles: ["legal"] });
    await addReviewer(s, { key: issuerAdmin, name: "Ida", roles: ["finance"] });
  });
  afterAll(() => s.close());

  const create = (body: Record<string, unknown>, key = agent) =>
    call<ApprovalRequest>(s.url, "POST", "/v1/requests", { key, body: { question: "Wire?", ...body } });
  const answer = (id: string, key: string, approved = true) =>
    call<Answer>(s.url, "POST", `/v1/requests/${id}/respond`, { key, body: { approved } });

  it("counts distinct people, reports k of N, and refuses a second answer from the same one", async () => {
    const r = await create({ required_role: "finance", required_approvals: 2 });
    expect(r.body.quorum).toMatchObject({ required: 2, approvals: 0, summary: "0 of 2" });
    const first = await answer(r.body.id, ann);
    expect(first.body.quorum).toMatchObject({ approvals: 1, remaining: 1, summary: "1 of 2" });
    const twice = await answer(r.body.id, ann);
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe("already_responded");
    const done = await answer(r.body.id, bob);
    expect(done.body.status).toBe("approved");
    expect(done.body.quorum.approvers.map((a) => a.name)).toEqual(["Ann", "Bob"]);
  });

  it("treats a person's new key as the same person", async () => {
    const r = await create({ required_role: "finance", required_approvals: 2 });
    await answer(r.body.id, ann);
    // Ann's record is relinked to a fresh key; she cannot approve a second time with it.
    const annRecord = (
      await call<{ data: Array<{ id: string; name: string }> }>(s.url, "GET", "/v1/reviewers?role=finance", {
        key: s.adminKey,
      })
    ).body.data.find((x) => x.name === "Ann");
    const fresh = await s.createKey("reviewer");
    const relinked = await call(s.url, "PATCH", `/v1/reviewers/${annRecord?.id}`, {
      key: s.adminKey,
      body: { key_id: await keyIdOf(s, fresh) },
    });
    expect(relinked.status).toBe(200);
    const again = await answer(r.body.id, fresh);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("already_responded");
    await call(s.url, "PATCH", `/v1/reviewers/${annRecord?.id}`, {
      key: s.adminKey,
      body: { key_id: await keyIdOf(s, ann) },
    });
  });

  it("never lets an owner of the agent key approve, but lets them reject", async () => {
    const r = await create({ required_role: "finance" });
    const selfApproval = await answer(r.body.id, owner);
    expect(selfApproval.status).toBe(403);
    expect(selfApproval.body.code).toBe("separation_of_duties");
    expect(
      (await call<ApprovalRequest>(s.url, "GET", `/v1/requests/${r.body.id}`, { key: s.adminKey })).body
        .status,
    ).toBe("pending");
    // The owner was never routed to either.
    expect(r.body.routing?.assignees.map((a) => a.name)).not.toContain("Owen");
    const rejected = await answer(r.body.id, owner, false);
    expect(rejected.body.status).toBe("rejected");
    const recorded = (await auditEntries(s, r.body.id)).find((e) => e.kind === "review.recorded");
    expect(recorded?.data.conflicts).toEqual(["agent_owner"]);
  });

  it("never lets the admin who issued the agent key approve its request as a reviewer", async () => {
    const r = await create({ required_role: "finance" }, issued);
    const attempt = await answer(r.body.id, issuerAdmin);
    expect(attempt.status).toBe(403);
    expect(attempt.body.code).toBe("separation_of_duties");
    expect((await answer(r.body.id, ann)).body.status).toBe("approved");
  });

  it("never lets whoever created a request approve it, admins included", async () => {
    const r = await create({ required_approvals: 1 }, s.adminKey);
    const attempt = await answer(r.body.id, s.adminKey);
    expect(attempt.status).toBe(403);
    expect(attempt.body.code).toBe("separation_of_duties");
    expect((await answer(r.body.id, ann)).body.status).toBe("approved");
  });

  it("cannot be satisfied by one person answering twice in a quorum of two, even with duplicates racing", async () => {
    const r = await create({ required_role: "finance", required_approvals: 2 });
    const raced = await Promise.all(Array.from({ length: 5 }, () => answer(r.body.id, ann)));
    expect(raced.filter((x) => x.status === 200)).toHaveLength(1);
    expect(raced.filter((x) => x.status === 409)).toHaveLength(4);
    const now = await call<ApprovalRequest>(s.url, "GET", `/v1/requests/${r.body.id}`, { key: s.adminKey });
    expect(now.body).toMatchObject({ status: "pending", quorum: { approvals: 1, summary: "1 of 2" } });
  });

  it("with require_distinct_roles, needs approvals from different roles", async () => {
    const r = await create({
      required_roles: ["finance", "legal"],
      required_approvals: 2,
      require_distinct_roles: true,
    });
    expect(r.status).toBe(201);
    await answer(r.body.id, ann);
    const sameRole = await answer(r.body.id, await financeOnlyKey());
    expect(sameRole.body.status).toBe("pending");
    expect(sameRole.body.quorum).toMatchObject({ approvals: 1, missing_roles: ["legal"] });
    const done = await answer(r.body.id, legal);
    expect(done.body.status).toBe("approved");
    expect(done.body.quorum.approvers.map((a) => [a.name, a.role])).toEqual([
      ["Ann", "finance"],
      ["Lea", "legal"],
    ]);
    const impossible = await create({
      required_roles: ["finance"],
      required_approvals: 2,
      require_distinct_roles: true,
    });
    expect(impossible.status).toBe(400);
  });

  it("counts each approval only for the exact arguments it approved, and shows pending edits", async () => {
    const r = await create({
      required_role: "finance",
      required_approvals: 2,
      tool: { name: "payments.send", args: { amount: 100, to: "acct-1" } },
    });
    const proposed = r.body.tool?.args_hash;
    const edit = { amount: 5000000, to: "acct-1" };
    const edited = await call<Answer>(s.url, "POST", `/v1/requests/${r.body.id}/respond`, {
      key: ann,
      body: { approved: true, modified_args: edit },
    });
    expect(edited.body).toMatchObject({ status: "pending", quorum: { approvals: 0, summary: "0 of 2" } });
    // Later approvers see the edit, who approved it, and how far it is from the quorum.
    const seen = await call<Answer>(s.url, "GET", `/v1/requests/${r.body.id}`, { key: bob });
    expect(seen.body.pending_edits).toEqual([
      {
        args: edit,
        args_hash: expect.stringMatching(/^sha256:/),
        quorum: expect.objectContaining({ approvals: 1, remaining: 1, summary: "1 of 2" }),
      },
    ]);
    expect(seen.body.pending_edits[0]?.args_hash).not.toBe(proposed);
    expect(seen.body.pending_edits[0]?.quorum.approvers.map((a) => a.name)).toEqual(["Ann"]);
    // Bob approves what he was shown, the proposed arguments: that completes no quorum.
    const plain = await answer(r.body.id, bob);
    expect(plain.body).toMatchObject({ status: "pending", response: null, quorum: { summary: "1 of 2" } });
    const recorded = (await auditEntries(s, r.body.id)).filter((e) => e.kind === "review.recorded");
    expect(recorded.map((e) => e.data.approved_args_hash)).toEqual([
      seen.body.pending_edits[0]?.args_hash,
      proposed,
    ]);
    // A third approver approves Ann's edit by sending the same arguments.
    const third = await call<Answer>(s.url, "POST", `/v1/requests/${r.body.id}/respond`, {
      key: await financeOnlyKey(),
      body: { approved: true, modified_args: { to: "acct-1", amount: 5000000 } },
    });
    expect(third.body).toMatchObject({ status: "approved", response: { modified_args: edit } });
    expect(third.body.quorum.approvers.map((a) => a.name)).toEqual(["Ann", "Fin"]);
    const decided = (await auditEntries(s, r.body.id)).find((e) => e.kind === "request.approved");
    expect(decided?.data).toMatchObject({
      proposed_args_hash: proposed,
      approved_args_hash: seen.body.pending_edits[0]?.args_hash,
    });
  });

  /** Another finance-only reviewer. */
  async function financeOnlyKey(): Promise<string> {
    const key = await s.createKey("reviewer");
    await addReviewer(s, { key, name: "Fin", roles: ["finance"] });
    return key;
  }
});
