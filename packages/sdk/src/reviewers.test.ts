import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../server/src/testing/harness.ts";
import { CountersignClient } from "./client.ts";
import { CountersignError } from "./errors.ts";
import { approvalRequest } from "./parse.ts";
import { type Reviewer, routingOf } from "./reviewers.ts";
import { requestJson } from "./test-fixtures.ts";
import { ShapeError } from "./validate.ts";

/* Reviewer management, the Control Map and responding from a reviewer key, against a real server. */

const ALWAYS = [
  { days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const, start: "00:00", end: "24:00" },
];

let server: TestServer;
let admin: CountersignClient;
let agent: CountersignClient;
let reviewerKey: { id: string; secret: string };

beforeAll(async () => {
  server = await startTestServer();
  admin = new CountersignClient({ baseUrl: server.url, apiKey: server.adminKey });
  agent = new CountersignClient({ baseUrl: server.url, apiKey: await server.createKey("agent") });
  const created = await admin.createKey({ role: "reviewer", name: "finance reviewer" });
  reviewerKey = { id: created.key.id, secret: created.secret };
});

afterAll(async () => {
  await server?.close();
});

describe("reviewer management", () => {
  let ann: Reviewer;

  it("creates, reads, lists, changes and deletes reviewers, with dates parsed", async () => {
    ann = await admin.createReviewer({
      name: "Ann",
      roles: ["finance"],
      timezone: "Europe/Paris",
      shifts: ALWAYS.map((s) => ({ ...s, days: [...s.days] })),
      overrides: [{ kind: "off", from: "2030-01-01", to: "2030-01-02", note: "away" }],
      key_id: reviewerKey.id,
    });
    expect(ann.id).toMatch(/^rvw_/);
    expect(ann.created_at).toBeInstanceOf(Date);
    expect(ann.overrides[0]?.note).toBe("away");
    expect(await admin.getReviewer(ann.id)).toEqual(ann);
    const page = await admin.listReviewers({ role: "finance" });
    expect(page.data.map((r) => r.id)).toContain(ann.id);
    const changed = await admin.updateReviewer(ann.id, { fallback_for: ["legal"], email: "ann@example.com" });
    expect(changed).toMatchObject({ fallback_for: ["legal"], email: "ann@example.com", roles: ["finance"] });
    const temp = await admin.createReviewer({ name: "Temp", roles: [], timezone: "UTC" });
    expect((await admin.deleteReviewer(temp.id)).id).toBe(temp.id);
    const gone = await admin.getReviewer(temp.id).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(CountersignError);
    expect((gone as CountersignError).status).toBe(404);
  });

  it("refuses bad input with the field that is wrong", async () => {
    const error = await admin
      .createReviewer({ name: "X", roles: [], timezone: "+02:00" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CountersignError);
    expect((error as CountersignError).status).toBe(400);
    expect((error as CountersignError).errors?.map((e) => e.path)).toEqual(["/timezone"]);
  });

  it("answers the Control Map for an agent, and routes and lets the reviewer key respond", async () => {
    const map = await agent.controlMap({
      approval_requirements: { required_roles: ["finance"], required_approvals: 1 },
    });
    expect(map.satisfiable).toBe(true);
    expect(map.on_shift_capacity[0]?.reviewers.map((r) => r.name)).toEqual(["Ann"]);
    const hopeless = await agent.controlMap({
      approval_requirements: { required_roles: ["finance"], required_approvals: 3 },
    });
    expect(hopeless.satisfiable).toBe(false);
    expect(hopeless.warnings.map((w) => w.code)).toEqual(["quorum_exceeds_eligible"]);

    const { request } = await agent.createRequest({
      question: "Pay?",
      required_role: "finance",
      escalate_after_seconds: 120,
      require_distinct_roles: false,
    });
    // Typed on the request itself, checked and with Dates, as well as through routingOf.
    expect(request.routing?.state).toBe("routed");
    expect(request.routing?.routed_at).toBeInstanceOf(Date);
    expect(request.routing?.escalate_after_seconds).toBe(120);
    expect(request.routing?.next_escalation_at).toBeInstanceOf(Date);
    expect(request.escalate_after_seconds).toBe(120);
    expect(request.require_distinct_roles).toBe(false);
    expect(request.quorum.summary).toBe("0 of 1");
    expect(request.quorum.remaining).toBe(1);
    const { routing, quorum } = routingOf(request);
    expect(routing?.state).toBe("routed");
    expect(routing?.assignees.map((a) => a.name)).toEqual(["Ann"]);
    expect(routing?.routed_at).toBeInstanceOf(Date);
    expect(quorum?.summary).toBe("0 of 1");

    const asReviewer = new CountersignClient({ baseUrl: server.url, apiKey: reviewerKey.secret });
    const decided = await asReviewer.respond(request.id, { approved: true, comment: "fine" });
    expect(decided.status).toBe("approved");
    expect(routingOf(decided).quorum?.approvers.map((a) => a.name)).toEqual(["Ann"]);
  });
});

describe("routingOf", () => {
  it("is null for a request from a server without routing, and refuses a malformed one", () => {
    const old = requestJson() as never;
    expect(routingOf(old)).toEqual({ routing: null, quorum: null });
    const parsedOld = approvalRequest(requestJson(), "$");
    expect(parsedOld.routing).toBeUndefined();
    expect(parsedOld.escalate_after_seconds).toBeUndefined();
    expect(parsedOld.quorum).toEqual({ required: 1, approvals: 0 });
    expect(() => approvalRequest(requestJson({ routing: { state: "lost" } }), "$")).toThrow(ShapeError);
    const broken = requestJson({ routing: { state: "lost" } }) as never;
    expect(() => routingOf(broken)).toThrow(ShapeError);
  });
});
