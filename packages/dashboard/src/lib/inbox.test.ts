import { describe, expect, it } from "vitest";
import { DEFAULT_FILTER, filterFromQuery, filterToQuery, newer, routedTo, selectInbox } from "./inbox.ts";
import type { ApprovalRequest } from "./types.ts";

let n = 0;
function req(over: Partial<ApprovalRequest> = {}): ApprovalRequest {
  n++;
  return {
    id: `req_${String(n).padStart(4, "0")}`,
    type: "approval",
    status: "pending",
    question: `question ${n}`,
    title: null,
    context: null,
    options: null,
    required_roles: [],
    required_approvals: 1,
    priority: "normal",
    expires_at: null,
    correlation_id: `case-${n}`,
    metadata: null,
    source: null,
    actor: null,
    created_by: { key_id: "key_agent", name: "bot", role: "agent" },
    trace_id: null,
    parent_trace_id: null,
    tool_calls: null,
    retrieved_context: null,
    tool: null,
    quorum: { required: 1, approvals: 0 },
    response: null,
    cancellation: null,
    created_at: `2030-01-01T00:00:${String(n % 60).padStart(2, "0")}.000Z`,
    updated_at: `2030-01-01T00:00:${String(n % 60).padStart(2, "0")}.000Z`,
    ...over,
  };
}

describe("the inbox's order and filters", () => {
  it("puts higher priority first, then the least time left, then the oldest", () => {
    const lowSoon = req({ priority: "low", expires_at: "2030-01-01T00:01:00Z" });
    const normalLate = req({ expires_at: "2030-01-01T05:00:00Z" });
    const normalSoon = req({ expires_at: "2030-01-01T00:02:00Z" });
    const normalNoDeadline = req();
    const urgent = req({ priority: "urgent" });
    const ordered = selectInbox(
      [lowSoon, normalLate, normalNoDeadline, normalSoon, urgent],
      DEFAULT_FILTER,
      "key_me",
    );
    expect(ordered.map((r) => r.id)).toEqual([
      urgent.id,
      normalSoon.id,
      normalLate.id,
      normalNoDeadline.id,
      lowSoon.id,
    ]);
  });

  it("shows decided requests most recently updated first", () => {
    const a = req({ status: "approved", updated_at: "2030-01-02T00:00:00Z" });
    const b = req({ status: "approved", updated_at: "2030-01-03T00:00:00Z" });
    expect(selectInbox([a, b], { ...DEFAULT_FILTER, status: "approved" }, "key_me").map((r) => r.id)).toEqual(
      [b.id, a.id],
    );
  });

  it("filters by status, role, agent, case and text", () => {
    const finance = req({ required_roles: ["finance"], title: "Pay invoice 88" });
    const other = req({
      created_by: { key_id: "key_b", name: "other-bot", role: "agent" },
      correlation_id: "run-7",
    });
    const done = req({ status: "rejected" });
    const all = [finance, other, done];
    const pick = (f: Partial<typeof DEFAULT_FILTER>) =>
      selectInbox(all, { ...DEFAULT_FILTER, ...f }, "key_me").map((r) => r.id);
    expect(pick({})).toEqual([finance.id, other.id]);
    expect(pick({ role: "finance" })).toEqual([finance.id]);
    expect(pick({ agent: "other-bot" })).toEqual([other.id]);
    expect(pick({ correlation: " run-7 " })).toEqual([other.id]);
    expect(pick({ search: "INVOICE" })).toEqual([finance.id]);
    expect(pick({ status: "all" })).toHaveLength(3);
  });

  it("keeps requests routed to me (or open to all) in my scope", () => {
    const open = req({ routing: { state: "open", tier: null, assignees: [], warnings: [] } });
    const mine = req({
      routing: {
        state: "routed",
        tier: "primary",
        assignees: [
          { reviewer_id: "rvw_1", key_id: "key_me", name: "me", roles: ["sre"], tier: "primary", reason: "" },
        ],
        warnings: [],
      },
    });
    const theirs = req({ routing: { state: "routed", tier: "primary", assignees: [], warnings: [] } });
    const unrouted = req();
    expect([open, mine, theirs, unrouted].map((r) => routedTo(r, "key_me"))).toEqual([
      true,
      true,
      false,
      true,
    ]);
    expect(selectInbox([theirs], { ...DEFAULT_FILTER, mine: false }, "key_me")).toHaveLength(1);
  });

  it("never lets an older copy replace a newer one, nor a pending copy a decided one", () => {
    const pending = req({ updated_at: "2030-01-01T00:00:10Z" });
    const decided = { ...pending, status: "approved" as const, updated_at: "2030-01-01T00:00:20Z" };
    expect(newer(undefined, pending)).toBe(pending);
    expect(newer(decided, pending)).toBe(decided);
    expect(newer(pending, decided)).toBe(decided);
    const later = { ...pending, updated_at: "2030-01-01T00:00:30Z" };
    expect(newer(later, pending)).toBe(later);
  });

  it("round-trips filters through the query string", () => {
    const f = {
      status: "rejected" as const,
      mine: false,
      role: "sre",
      agent: "bot",
      correlation: "run-1",
      search: "db",
    };
    expect(filterFromQuery(filterToQuery(f))).toEqual(f);
    expect(filterToQuery(DEFAULT_FILTER)).toBe("");
    expect(filterFromQuery("?status=bogus").status).toBe("pending");
  });
});
