// Tests of responding to a request (request-respond.ts): quorum counted per exact arguments approved,
// response validation, eligibility of responders and separation of duties.

import { describe, expect, it } from "vitest";
import { ConflictError, ForbiddenError } from "./errors.ts";
import { argsHash } from "./hash.ts";
import { agent, make, now, r1, r2, r3 } from "./request.testkit.ts";
import { createRequest } from "./request-create.ts";
import { respond } from "./request-respond.ts";
import { cancelRequest } from "./request-terminal.ts";
import type { ApprovalRequest, Principal, Review } from "./request-types.ts";
import { assessResponder, NotEligibleError, SeparationOfDutiesError } from "./routing/eligibility.ts";
import { reviewer } from "./routing/routing.testkit.ts";
import type { RequesterFacts, RoutingReviewer } from "./routing/types.ts";

describe("request lifecycle", () => {
  it("approves after N distinct approvals; records proposed and approved argument hashes", () => {
    const req = make({ question: "?", required_approvals: 2, tool: { name: "pay", args: { amount: 10 } } });
    const first = respond(
      req,
      [],
      { approved: true, modified_args: { amount: 5 } },
      { reviewId: "rev_1", now, by: r1 },
    );
    expect(first.request.status).toBe("pending");
    expect(first.request.quorum.approvals).toBe(0);
    expect(first.request.pending_edits[0]?.quorum.approvals).toBe(1);
    const second = respond(
      first.request,
      [first.review],
      { approved: true, modified_args: { amount: 5 } },
      {
        reviewId: "rev_2",
        now,
        by: r2,
      },
    );
    expect(second.request.status).toBe("approved");
    expect(second.request.response?.modified_args).toEqual({ amount: 5 });
    const decided = second.audit.find((a) => a.kind === "request.approved");
    expect(decided?.data.proposed_args_hash).toBe(req.tool?.args_hash);
    expect(decided?.data.approved_args_hash).not.toBe(req.tool?.args_hash);
  });

  it("counts an approval only for the arguments it approved: a plain approval never completes an edit", () => {
    const req = make({ question: "?", required_approvals: 2, tool: { name: "pay", args: { amount: 10 } } });
    const proposed = req.tool?.args_hash;
    const edit = { amount: 5000000 };
    const a = respond(req, [], { approved: true, modified_args: edit }, { reviewId: "rev_1", now, by: r1 });
    expect(a.review.approved_args_hash).toBe(argsHash(edit));
    expect(a.request.status).toBe("pending");
    // Nobody approved the proposed arguments yet; the edit has one approval of two, and shows.
    expect(a.request.quorum).toMatchObject({ approvals: 0, summary: "0 of 2" });
    expect(a.request.pending_edits).toEqual([
      {
        args: edit,
        args_hash: argsHash(edit),
        quorum: expect.objectContaining({ approvals: 1, remaining: 1, summary: "1 of 2" }),
      },
    ]);
    expect(a.request.pending_edits[0]?.quorum.approvers.map((x) => x.key_id)).toEqual([r1.key_id]);
    expect(a.audit[0]?.data).toMatchObject({
      proposed_args_hash: proposed,
      modified_args_hash: argsHash(edit),
      approved_args_hash: argsHash(edit),
      quorum: "1 of 2",
      counted: true,
    });

    // Bob approves what he was shown (the proposed arguments): that is not an approval of the edit.
    const b = respond(a.request, [a.review], { approved: true }, { reviewId: "rev_2", now, by: r2 });
    expect(b.review.approved_args_hash).toBe(proposed);
    expect(b.request.status).toBe("pending");
    expect(b.request.response).toBeNull();
    expect(b.request.quorum).toMatchObject({ approvals: 1, summary: "1 of 2" });
    expect(b.request.quorum.approvers.map((x) => x.key_id)).toEqual([r2.key_id]);
    expect(b.request.pending_edits).toHaveLength(1);
    expect(b.audit.map((e) => e.kind)).toEqual(["review.recorded"]);

    // A third approver approves the edit by sending the same arguments (key order does not matter).
    const c = respond(
      b.request,
      [a.review, b.review],
      { approved: true, modified_args: { amount: 5000000 } },
      { reviewId: "rev_3", now, by: r3 },
    );
    expect(c.request.status).toBe("approved");
    expect(c.request.response?.modified_args).toEqual(edit);
    expect(c.request.quorum.approvers.map((x) => x.key_id)).toEqual([r1.key_id, r3.key_id]);
    const decided = c.audit.find((e) => e.kind === "request.approved");
    expect(decided?.data).toMatchObject({ proposed_args_hash: proposed, approved_args_hash: argsHash(edit) });
    expect(((decided?.data.approvers ?? []) as Array<{ key_id: string }>).map((x) => x.key_id)).toEqual([
      r1.key_id,
      r3.key_id,
    ]);
  });

  it("approves the proposed arguments once enough approvers approve them, whatever was edited meanwhile", () => {
    const req = make({ question: "?", required_approvals: 2, tool: { name: "pay", args: { a: 1, b: 2 } } });
    const a = respond(
      req,
      [],
      { approved: true, modified_args: { a: 9 } },
      { reviewId: "rev_1", now, by: r1 },
    );
    const b = respond(a.request, [a.review], { approved: true }, { reviewId: "rev_2", now, by: r2 });
    // An "edit" identical to the proposed arguments (same canonical form) approves them.
    const c = respond(
      b.request,
      [a.review, b.review],
      { approved: true, modified_args: { b: 2, a: 1 } },
      { reviewId: "rev_3", now, by: r3 },
    );
    expect(c.request.status).toBe("approved");
    expect(c.request.response?.modified_args).toBeNull();
    expect(c.request.quorum.approvers.map((x) => x.key_id)).toEqual([r2.key_id, r3.key_id]);
    expect(c.audit.find((e) => e.kind === "request.approved")?.data.approved_args_hash).toBe(
      req.tool?.args_hash,
    );
    // The edit nobody else approved stays listed as it stood.
    expect(c.request.pending_edits.map((e) => e.args)).toEqual([{ a: 9 }]);
  });

  it("never adds up approvals of different edits", () => {
    const req = make({ question: "?", required_approvals: 2, tool: { name: "pay", args: { amount: 10 } } });
    const a = respond(
      req,
      [],
      { approved: true, modified_args: { amount: 5 } },
      { reviewId: "rev_1", now, by: r1 },
    );
    const b = respond(
      a.request,
      [a.review],
      { approved: true, modified_args: { amount: 6 } },
      { reviewId: "rev_2", now, by: r2 },
    );
    expect(b.request.status).toBe("pending");
    expect(b.request.pending_edits.map((e) => [e.args, e.quorum.summary])).toEqual([
      [{ amount: 5 }, "1 of 2"],
      [{ amount: 6 }, "1 of 2"],
    ]);
    // One rejection still rejects.
    const c = respond(
      b.request,
      [a.review, b.review],
      { approved: false },
      { reviewId: "rev_3", now, by: r3 },
    );
    expect(c.request.status).toBe("rejected");
    expect(c.request.response?.modified_args).toBeNull();
    expect(c.audit.find((e) => e.kind === "request.rejected")?.data.approved_args_hash).toBeNull();
  });

  it("approves an edit to null as the absent arguments {}", () => {
    const req = make({ question: "?", tool: { name: "pay", args: { amount: 10 } } });
    const t = respond(req, [], { approved: true, modified_args: null }, { reviewId: "rev_1", now, by: r1 });
    expect(t.request.response?.modified_args).toEqual({});
    expect(t.review.approved_args_hash).toBe(argsHash({}));
  });

  it("reads approvals stored before approved_args_hash existed by their edit", () => {
    const req = make({ question: "?", required_approvals: 2, tool: { name: "pay", args: { amount: 10 } } });
    const a = respond(
      req,
      [],
      { approved: true, modified_args: { amount: 5 } },
      { reviewId: "rev_1", now, by: r1 },
    );
    const legacy = { ...a.review } as Partial<Review>;
    delete legacy.approved_args_hash;
    const b = respond(a.request, [legacy as Review], { approved: true }, { reviewId: "rev_2", now, by: r2 });
    expect(b.request.status).toBe("pending");
    const c = respond(
      a.request,
      [legacy as Review],
      { approved: true, modified_args: { amount: 5 } },
      { reviewId: "rev_2", now, by: r2 },
    );
    expect(c.request.status).toBe("approved");
    expect(c.request.response?.modified_args).toEqual({ amount: 5 });
  });

  it("refuses double responses, agents responding, and changes to terminal requests", () => {
    const req = make({ question: "?", required_approvals: 2 });
    const first = respond(req, [], { approved: true }, { reviewId: "rev_1", now, by: r1 });
    expect(() =>
      respond(first.request, [first.review], { approved: true }, { reviewId: "x", now, by: r1 }),
    ).toThrow("already responded");
    expect(() => respond(req, [], { approved: true }, { reviewId: "x", now, by: agent })).toThrow(
      ForbiddenError,
    );
    const rejected = respond(req, [], { approved: false, comment: "no" }, { reviewId: "x", now, by: r2 });
    expect(rejected.request.status).toBe("rejected");
    expect(() => respond(rejected.request, [], { approved: true }, { reviewId: "y", now, by: r1 })).toThrow(
      ConflictError,
    );
    expect(() => cancelRequest(rejected.request, { now, by: agent })).toThrow(ConflictError);
  });

  it("validates response bodies against the request type", () => {
    const approval = make({ question: "?" });
    expect(() => respond(approval, [], {}, { reviewId: "x", now, by: r1 })).toThrow("approved");
    expect(() =>
      respond(approval, [], { approved: true, modified_args: {} }, { reviewId: "x", now, by: r1 }),
    ).toThrow("tool");
    const input = make({ type: "input", question: "?" });
    expect(() => respond(input, [], { answer: "  " }, { reviewId: "x", now, by: r1 })).toThrow("non-empty");
    expect(respond(input, [], { approved: false }, { reviewId: "x", now, by: r1 }).request.status).toBe(
      "rejected",
    );
  });

  it("keeps reviews typed", () => {
    const req = make({ question: "?" });
    const { review } = respond(
      req,
      [],
      { approved: true, comment: "ok" },
      { reviewId: "rev_9", now, by: r1 },
    );
    const typed: Review = review;
    expect(typed).toMatchObject({ id: "rev_9", decision: "approve", channel: "api", comment: "ok" });
  });
});

describe("eligibility and separation of duties when responding", () => {
  const requester: RequesterFacts = { created_by_key_id: agent.key_id, creator_issued_by: "key_root" };
  const asKey = (r: RoutingReviewer, role: Principal["role"] = "reviewer"): Principal => ({
    key_id: r.key_id ?? "none",
    name: r.name,
    role,
  });
  const answer = (
    request: ApprovalRequest,
    prior: Review[],
    r: RoutingReviewer | null,
    by: Principal,
    approved = true,
  ) =>
    respond(
      request,
      prior,
      { approved },
      {
        reviewId: `rev_${prior.length}`,
        now,
        by,
        responder: assessResponder(request, by, r, requester),
      },
    );
  const fin1 = reviewer("fin1", { roles: ["finance"] });
  const fin2 = reviewer("fin2", { roles: ["finance"] });
  const legal = reviewer("legal", { roles: ["legal"] });
  const cover = reviewer("cover", { fallback_for: ["finance"] });
  const owner = reviewer("owner", { roles: ["finance"], owns_agent_keys: [agent.key_id] });
  const issuer = reviewer("issuer", { roles: ["finance"], key_id: "key_root" });

  it("lets only holders or fallback coverers of a required role decide", () => {
    const req = make({ question: "?", required_roles: ["finance"] });
    expect(() => answer(req, [], legal, asKey(legal))).toThrow(NotEligibleError);
    expect(() => answer(req, [], null, r1)).toThrow(NotEligibleError);
    expect(answer(req, [], cover, asKey(cover)).request.status).toBe("approved");
    expect(answer(req, [], fin1, asKey(fin1)).review).toMatchObject({
      reviewer_id: "rvw_fin1",
      roles: ["finance"],
      override: false,
    });
  });

  it("records an admin without an eligible reviewer record as an override", () => {
    const req = make({ question: "?", required_roles: ["finance"] });
    const admin: Principal = { key_id: "key_admin2", name: "root", role: "admin" };
    const t = answer(req, [], null, admin);
    expect(t.review.override).toBe(true);
    expect(t.audit[0]?.data.override).toBe(true);
    expect(t.audit[1]?.data.overrides).toEqual(["key_admin2"]);
    const linked = reviewer("linked", { roles: ["finance"], key_id: "key_admin3" });
    expect(answer(req, [], linked, asKey(linked, "admin")).review.override).toBe(false);
  });

  it("never lets the requester or an owner of the agent key approve, but lets them reject", () => {
    const req = make({ question: "?", required_roles: ["finance"] });
    expect(() => answer(req, [], owner, asKey(owner))).toThrow(SeparationOfDutiesError);
    expect(() => answer(req, [], issuer, asKey(issuer, "admin"))).toThrow(SeparationOfDutiesError);
    const byHand = createRequest(
      { question: "?" },
      { id: "req_2", now, by: { key_id: "key_boss", name: "boss", role: "admin" } },
    ).request;
    const boss: Principal = { key_id: "key_boss", name: "boss", role: "admin" };
    expect(() =>
      respond(
        byHand,
        [],
        { approved: true },
        {
          reviewId: "x",
          now,
          by: boss,
          responder: assessResponder(byHand, boss, null, {
            created_by_key_id: "key_boss",
            creator_issued_by: null,
          }),
        },
      ),
    ).toThrow("created this request");
    const rejected = answer(req, [], owner, asKey(owner), false);
    expect(rejected.request.status).toBe("rejected");
    expect(rejected.audit[0]?.data.conflicts).toEqual(["agent_owner"]);
  });

  it("needs N distinct people: a second key of the same person is a duplicate", () => {
    const req = make({ question: "?", required_roles: ["finance"], required_approvals: 2 });
    const first = answer(req, [], fin1, asKey(fin1));
    expect(first.request.quorum.summary).toBe("1 of 2");
    const sameAsAdmin: Principal = { key_id: "key_fin1_admin", name: "fin1", role: "admin" };
    expect(() =>
      answer(first.request, [first.review], { ...fin1, key_id: "key_fin1_admin" }, sameAsAdmin),
    ).toThrow("already responded");
    const second = answer(first.request, [first.review], fin2, asKey(fin2));
    expect(second.request.status).toBe("approved");
    expect(second.request.quorum).toMatchObject({ approvals: 2, remaining: 0, summary: "2 of 2" });
    expect(second.audit[1]?.data.approvers).toHaveLength(2);
  });

  it("with distinct roles, a second approval from the same role does not count", () => {
    const req = make({
      question: "?",
      required_roles: ["finance", "legal"],
      required_approvals: 2,
      require_distinct_roles: true,
    });
    const a = answer(req, [], fin1, asKey(fin1));
    const b = answer(a.request, [a.review], fin2, asKey(fin2));
    expect(b.request.status).toBe("pending");
    expect(b.request.quorum).toMatchObject({ approvals: 1, missing_roles: ["legal"] });
    expect(b.audit[0]?.data.counted).toBe(false);
    const c = answer(b.request, [a.review, b.review], legal, asKey(legal));
    expect(c.request.status).toBe("approved");
  });
});
