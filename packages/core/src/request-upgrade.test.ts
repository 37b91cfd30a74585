// Tests of reading documents stored by older versions (request-upgrade.ts): requests and reviews are
// upgraded to the current shape.

import { describe, expect, it } from "vitest";
import { make, now, r1 } from "./request.testkit.ts";
import { respond } from "./request-respond.ts";
import type { ApprovalRequest, Review } from "./request-types.ts";
import { upgradeRequest, upgradeReview } from "./request-upgrade.ts";

describe("documents stored before routing existed", () => {
  it("are upgraded to the current shape on read", () => {
    const legacy = {
      ...make({ question: "?", required_approvals: 2 }),
      quorum: { required: 2, approvals: 1 },
    } as unknown as ApprovalRequest;
    delete (legacy as Partial<ApprovalRequest>).routing;
    delete (legacy as Partial<ApprovalRequest>).require_distinct_roles;
    const up = upgradeRequest(legacy);
    expect(up.routing).toBeNull();
    expect(up.require_distinct_roles).toBe(false);
    expect(up.quorum).toMatchObject({ required: 2, approvals: 1, remaining: 1, summary: "1 of 2" });
    expect(up.pending_edits).toEqual([]);
    const beforeEdits = { ...make({ question: "?" }) } as Partial<ApprovalRequest>;
    delete beforeEdits.pending_edits;
    expect(upgradeRequest(beforeEdits as ApprovalRequest).pending_edits).toEqual([]);
    const review = {
      ...respond(make({ question: "?" }), [], { approved: true }, { reviewId: "r", now, by: r1 }).review,
    } as Partial<Review>;
    delete review.reviewer_id;
    expect(upgradeReview(review as Review)).toMatchObject({ reviewer_id: null, roles: [], override: false });
  });
});
