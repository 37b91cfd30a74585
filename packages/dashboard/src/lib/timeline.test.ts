import { describe, expect, it } from "vitest";
import { timelineItems } from "./timeline.ts";
import type { AuditEntry } from "./types.ts";

const entry = (
  seq: number,
  kind: string,
  subject_id: string,
  data: Record<string, unknown>,
  name = "bot",
): AuditEntry => ({
  seq,
  at: `2030-01-01T00:00:0${seq}Z`,
  kind,
  subject_id,
  correlation_id: "run-1",
  actor: { type: "key", name },
  data,
  prev_hash: "0",
  hash: "1",
});

describe("a case's timeline", () => {
  it("tells what happened in order, linking governed calls, requests and actions to each other", () => {
    const items = timelineItems(
      [
        entry(3, "review.recorded", "req_1", { decision: "approve", comment: "ok" }, "rita"),
        entry(1, "govern.approval_required", "gov_1", {
          tool: "email.send",
          reason: "emails need a human",
          request_id: "req_1",
        }),
        entry(2, "request.created", "req_1", { title: "Send the email" }),
        entry(4, "action.logged", "act_1", {
          action: "email.sent",
          summary: "sent",
          in_reply_to: { type: "request", id: "req_1" },
        }),
      ],
      new Map([["req_1", "gov_1"]]),
    );
    expect(items.map((i) => i.title)).toEqual([
      "Governed call email.send: approval required",
      "Request: Send the email",
      "rita approved",
      "Action email.sent",
    ]);
    expect(items[0]?.links).toEqual([{ label: "request", href: "/requests/req_1" }]);
    expect(items[1]?.links).toEqual([
      { label: "request", href: "/requests/req_1" },
      { label: "governed call", href: "#gov_1" },
    ]);
    expect(items[3]?.links).toEqual([{ label: "request", href: "/requests/req_1" }]);
    // Anchors mark the first entry about each subject.
    expect(items.map((i) => i.anchor)).toEqual(["gov_1", "req_1", null, "act_1"]);
    expect(items[2]?.detail).toBe("ok");
  });
});
