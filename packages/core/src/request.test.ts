import { describe, expect, it } from "vitest";
import { ConflictError, ForbiddenError, ValidationError } from "./errors.ts";
import { cancelRequest, createRequest, expireRequest, respond } from "./request.ts";
import type { ApprovalRequest, NewRequestInput, Principal, Review } from "./request-types.ts";

const agent: Principal = { key_id: "key_a", name: "bot", role: "agent" };
const r1: Principal = { key_id: "key_r1", name: "ann", role: "reviewer" };
const r2: Principal = { key_id: "key_r2", name: "bob", role: "reviewer" };
const now = Date.UTC(2026, 0, 1);

function make(input: NewRequestInput): ApprovalRequest {
  return createRequest(input, { id: "req_1", now, by: agent }).request;
}

describe("request lifecycle", () => {
  it("needs a question or a title, options for decisions, and quorum only for approvals", () => {
    expect(() => make({})).toThrow(ValidationError);
    expect(() => make({ type: "decision", question: "?", options: [{ name: "a" }] })).toThrow("two options");
    expect(() => make({ type: "decision", question: "?", options: [{ name: "a" }, { name: "a" }] })).toThrow(
      "duplicate",
    );
    expect(() => make({ type: "input", question: "?", required_approvals: 2 })).toThrow(ValidationError);
    expect(make({ title: "t", ttl_seconds: 60 }).expires_at).toBe(new Date(now + 60_000).toISOString());
  });

  it("merges required_role and required_roles without duplicates", () => {
    expect(
      make({ question: "?", required_role: "ops", required_roles: ["ops", "finance"] }).required_roles,
    ).toEqual(["ops", "finance"]);
  });

  it("approves after N distinct approvals; records proposed and approved argument hashes", () => {
    const req = make({ question: "?", required_approvals: 2, tool: { name: "pay", args: { amount: 10 } } });
    const first = respond(
      req,
      [],
      { approved: true, modified_args: { amount: 5 } },
      { reviewId: "rev_1", now, by: r1 },
    );
    expect(first.request.status).toBe("pending");
    expect(first.request.quorum.approvals).toBe(1);
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

  it("refuses approvers who disagree on the edited arguments", () => {
    const req = make({ question: "?", required_approvals: 2, tool: { name: "pay", args: { amount: 10 } } });
    const first = respond(
      req,
      [],
      { approved: true, modified_args: { amount: 5 } },
      { reviewId: "rev_1", now, by: r1 },
    );
    expect(() =>
      respond(
        first.request,
        [first.review],
        { approved: true, modified_args: { amount: 6 } },
        {
          reviewId: "rev_2",
          now,
          by: r2,
        },
      ),
    ).toThrow(ConflictError);
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

  it("times out only after the TTL, as timed_out and not rejected", () => {
    const req = make({ question: "?", ttl_seconds: 10 });
    expect(expireRequest(req, now + 9_999)).toBeNull();
    const t = expireRequest(req, now + 10_000);
    expect(t?.request.status).toBe("timed_out");
    expect(t?.request.response).toBeNull();
    expect(t?.audit[0]?.kind).toBe("request.timed_out");
    expect(expireRequest(make({ question: "no ttl" }), now + 1e12)).toBeNull();
  });

  it("lets only the creating agent or an admin cancel", () => {
    const req = make({ question: "?" });
    expect(() => cancelRequest(req, { now, by: { key_id: "key_other", name: "o", role: "agent" } })).toThrow(
      ForbiddenError,
    );
    expect(() => cancelRequest(req, { now, by: r1 })).toThrow(ForbiddenError);
    expect(cancelRequest(req, { now, by: agent, reason: "done" }).request.cancellation?.reason).toBe("done");
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
