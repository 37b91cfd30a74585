// Tests of creating a request (request-create.ts): what a valid request needs, how roles and quorum
// are set, and how it is routed and scheduled for escalation.

import { describe, expect, it } from "vitest";
import { ValidationError } from "./errors.ts";
import { agent, make, now } from "./request.testkit.ts";
import { createRequest } from "./request-create.ts";
import type { NewRequestInput } from "./request-types.ts";
import { reviewer } from "./routing/routing.testkit.ts";

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
});

describe("routing at creation", () => {
  const finance = reviewer("fin", { roles: ["finance"] });

  it("records request.routed with who and why for requests with required roles", () => {
    const t = createRequest(
      { question: "?", required_roles: ["finance"] },
      { id: "req_1", now, by: agent, reviewers: [finance] },
    );
    expect(t.request.routing).toMatchObject({ state: "routed", tier: "primary", escalations: 0 });
    expect(t.audit.map((a) => a.kind)).toEqual(["request.created", "request.routed"]);
    expect(t.audit[1]?.data.assignees).toEqual([
      {
        reviewer_id: "rvw_fin",
        key_id: "key_fin",
        name: "fin",
        roles: ["finance"],
        tier: "primary",
        reason: "holds finance, on shift",
      },
    ]);
  });

  it("creates an unroutable request anyway, flagged, with a warning and request.unroutable", () => {
    const t = createRequest(
      { question: "?", required_roles: ["legal"] },
      { id: "req_1", now, by: agent, reviewers: [finance] },
    );
    expect(t.request.status).toBe("pending");
    expect(t.request.routing?.state).toBe("unroutable");
    expect(t.request.routing?.warnings.map((w) => w.code)).toEqual(["role_unmapped"]);
    expect(t.audit.map((a) => a.kind)).toEqual(["request.created", "request.unroutable"]);
  });

  it("does not route open requests, so they add no audit entry", () => {
    const t = createRequest({ question: "?" }, { id: "req_1", now, by: agent, reviewers: [finance] });
    expect(t.request.routing?.state).toBe("open");
    expect(t.audit.map((a) => a.kind)).toEqual(["request.created"]);
  });

  it("escalates by priority unless told otherwise", () => {
    const after = (input: Partial<NewRequestInput>) =>
      createRequest({ question: "?", ...input }, { id: "req_1", now, by: agent }).request.routing;
    expect(after({ priority: "urgent" })?.escalate_after_seconds).toBe(180);
    expect(after({ priority: "high" })?.escalate_after_seconds).toBe(600);
    expect(after({})?.next_escalation_at).toBe(new Date(now + 1800_000).toISOString());
    expect(after({ priority: "low" })?.next_escalation_at).toBeNull();
    expect(after({ priority: "urgent", escalate_after_seconds: 42 })?.escalate_after_seconds).toBe(42);
    expect(after({ escalate_after_seconds: null })?.next_escalation_at).toBeNull();
    const custom = createRequest(
      { question: "?", priority: "low" },
      { id: "req_1", now, by: agent, escalation: { urgent: 60, high: 120, normal: 300, low: 3600 } },
    );
    expect(custom.request.routing?.escalate_after_seconds).toBe(3600);
  });

  it("refuses distinct roles that can never be satisfied", () => {
    expect(() =>
      make({ question: "?", required_roles: ["a"], required_approvals: 2, require_distinct_roles: true }),
    ).toThrow(ValidationError);
    expect(() =>
      make({ type: "input", question: "?", required_roles: ["a"], require_distinct_roles: true }),
    ).toThrow(ValidationError);
    expect(
      make({ question: "?", required_roles: ["a", "b"], required_approvals: 2, require_distinct_roles: true })
        .quorum,
    ).toMatchObject({
      required: 2,
      approvals: 0,
      distinct_roles: true,
      missing_roles: ["a", "b"],
      summary: "0 of 2",
    });
  });
});
