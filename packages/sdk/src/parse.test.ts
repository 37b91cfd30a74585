import { describe, expect, it } from "vitest";
import { apiKey, approvalRequest, auditEntry, auditVerification, requestPage } from "./parse.ts";
import { auditEntryJson, requestJson, reviewJson } from "./test-fixtures.ts";
import { ShapeError } from "./validate.ts";

describe("approvalRequest", () => {
  it("turns every timestamp into a Date, down to the reviews", () => {
    const request = approvalRequest(
      requestJson({
        status: "rejected",
        response: {
          approved: false,
          option: null,
          answer: null,
          comment: "no",
          modified_args: null,
          reviews: [reviewJson()],
          decided_at: "2025-06-01T12:00:30.250Z",
        },
      }),
      "$",
    );
    expect(request.created_at).toEqual(new Date("2025-06-01T12:00:00.000Z"));
    expect(request.updated_at).toBeInstanceOf(Date);
    expect(request.expires_at).toEqual(new Date("2025-06-01T12:01:00.000Z"));
    expect(request.response?.decided_at).toEqual(new Date("2025-06-01T12:00:30.250Z"));
    expect(request.response?.reviews[0]?.created_at).toEqual(new Date("2025-06-01T12:00:30.250Z"));
  });

  it("keeps null timestamps null", () => {
    expect(approvalRequest(requestJson({ expires_at: null, ttl_seconds: null }), "$").expires_at).toBeNull();
  });

  it("passes fields a newer server adds through, and types the approval token", () => {
    const request = approvalRequest(requestJson({ approval_token: "a.b.c", risk: { score: 3 } }), "$");
    expect(request.approval_token).toBe("a.b.c");
    expect((request as unknown as { risk: unknown }).risk).toEqual({ score: 3 });
    expect("approval_token" in approvalRequest(requestJson(), "$")).toBe(false);
    expect(approvalRequest(requestJson({ approval_token: null }), "$").approval_token).toBeNull();
    expect(() => approvalRequest(requestJson({ approval_token: 7 }), "$")).toThrow(/approval_token/);
  });

  it("types pending edits and the hash each approval approved, absent from older servers", () => {
    const edit = { args: { amount: 90 }, args_hash: `sha256:${"e".repeat(64)}` };
    const request = approvalRequest(
      requestJson({
        pending_edits: [{ ...edit, quorum: { required: 2, approvals: 1, summary: "1 of 2" } }],
        response: responseWith(reviewJson({ approved_args_hash: edit.args_hash })),
      }),
      "$",
    );
    expect(request.pending_edits).toEqual([
      { ...edit, quorum: { required: 2, approvals: 1, summary: "1 of 2" } },
    ]);
    expect(request.response?.reviews[0]?.approved_args_hash).toBe(edit.args_hash);
    const older = approvalRequest(requestJson({ response: responseWith(reviewJson()) }), "$");
    expect("pending_edits" in older).toBe(false);
    expect("approved_args_hash" in (older.response?.reviews[0] ?? {})).toBe(false);
    expect(() => approvalRequest(requestJson({ pending_edits: [{ args: {} }] }), "$")).toThrow(
      /\$\.pending_edits\[0\]\.args_hash/,
    );
  });

  it.each([
    ["an unknown status", { status: "maybe" }, "$.status"],
    ["a missing id", { id: undefined }, "$.id"],
    ["a timestamp without a zone", { created_at: "2025-06-01T12:00:00" }, "$.created_at"],
    ["a numeric timestamp", { updated_at: 1748779200000 }, "$.updated_at"],
    ["a malformed principal", { created_by: { key_id: "k", name: "n", role: "root" } }, "$.created_by.role"],
    ["a quorum of strings", { quorum: { required: "1", approvals: 0 } }, "$.quorum.required"],
    ["an options object", { options: {} }, "$.options"],
    [
      "a review with a bad date",
      { response: responseWith(reviewJson({ created_at: "soon" })) },
      "$.response.reviews[0].created_at",
    ],
  ])("refuses %s, naming %s", (_what, overrides, path) => {
    try {
      approvalRequest(requestJson(overrides), "$");
    } catch (error) {
      expect(error).toBeInstanceOf(ShapeError);
      expect((error as ShapeError).path).toBe(path);
      return;
    }
    throw new Error("expected a ShapeError");
  });
});

function responseWith(review: Record<string, unknown>): Record<string, unknown> {
  return {
    approved: false,
    option: null,
    answer: null,
    comment: null,
    modified_args: null,
    reviews: [review],
    decided_at: "2025-06-01T12:00:30Z",
  };
}

describe("other resources", () => {
  it("parses a page of requests and its cursor", () => {
    const page = requestPage(
      { data: [requestJson(), requestJson({ id: "req_02" })], next_cursor: "req_02" },
      "$",
    );
    expect(page.data.map((r) => r.id)).toEqual(["req_01", "req_02"]);
    expect(page.next_cursor).toBe("req_02");
    expect(() => requestPage({ data: [requestJson({ priority: "asap" })], next_cursor: null }, "$")).toThrow(
      /\$\.data\[0\]\.priority/,
    );
  });

  it("keeps an audit entry's `at` verbatim beside its Date, as the hash covers the text", () => {
    const entry = auditEntry(auditEntryJson({ at: "2025-06-01T14:00:00.000+02:00" }), "$");
    expect(entry.at).toEqual(new Date("2025-06-01T12:00:00.000Z"));
    expect(entry.at_text).toBe("2025-06-01T14:00:00.000+02:00");
    expect(() => auditEntry(auditEntryJson({ seq: "1" }), "$")).toThrow(/\$\.seq/);
  });

  it("reads both verdicts of an audit verification", () => {
    expect(auditVerification({ ok: true, entries: 3, head_hash: "h" }, "$")).toEqual({
      ok: true,
      entries: 3,
      head_hash: "h",
    });
    expect(
      auditVerification({ ok: false, entries: 3, first_broken_seq: 2, reason: "hash mismatch" }, "$"),
    ).toEqual({ ok: false, entries: 3, first_broken_seq: 2, reason: "hash mismatch" });
    expect(() => auditVerification({ ok: false, entries: 3 }, "$")).toThrow(/first_broken_seq/);
  });

  it("parses a key's revocation time", () => {
    const key = apiKey(
      {
        id: "key_01",
        name: "n",
        role: "agent",
        hint: "cs_agent_AbCd…",
        created_at: "2025-06-01T12:00:00.000Z",
        created_by: null,
        revoked_at: "2025-06-02T12:00:00.000Z",
      },
      "$",
    );
    expect(key.revoked_at).toEqual(new Date("2025-06-02T12:00:00.000Z"));
  });
});
