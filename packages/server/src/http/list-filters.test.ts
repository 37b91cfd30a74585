import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STORAGE_KINDS, startTestServer, type TestServer } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";

describe.each(STORAGE_KINDS)("request list filters (%s)", (storage) => {
  let s: TestServer;
  let agent: string;
  beforeAll(async () => {
    s = await startTestServer({ storage });
    agent = await s.createKey("agent");
  });
  afterAll(() => s.close());

  it("filters by a whole role name, taking LIKE wildcards literally", async () => {
    const make = (roles: string[]) =>
      call<{ id: string }>(s.url, "POST", "/v1/requests", {
        key: agent,
        body: { question: "?", required_roles: roles },
      });
    const oncall = await make(["sre_oncall"]);
    const lookalike = await make(["sreXoncall"]);
    const prefix = await make(["sre_oncall_backup"]);
    const list = await call<{ data: Array<{ id: string }> }>(
      s.url,
      "GET",
      "/v1/requests?role=sre_oncall&limit=200",
      {
        key: s.adminKey,
      },
    );
    const ids = list.body.data.map((r) => r.id);
    expect(ids).toContain(oncall.body.id);
    expect(ids).not.toContain(lookalike.body.id);
    expect(ids).not.toContain(prefix.body.id);
  });

  it("shows a reviewer only the requests of a case they may see", async () => {
    const reviewer = await s.createKey("reviewer");
    const restricted = await call<{ id: string }>(s.url, "POST", "/v1/requests", {
      key: agent,
      body: { question: "Wire funds?", required_roles: ["finance"], correlation_id: "case-mixed" },
    });
    const open = await call<{ id: string }>(s.url, "POST", "/v1/requests", {
      key: agent,
      body: { question: "Anyone?", correlation_id: "case-mixed" },
    });
    const seen = await call<{ requests: Array<{ id: string }>; timeline: Array<{ subject_id: string }> }>(
      s.url,
      "GET",
      "/v1/cases/case-mixed",
      { key: reviewer },
    );
    expect(seen.body.requests.map((r) => r.id)).toEqual([open.body.id]);
    expect(seen.body.timeline.some((e) => e.subject_id === restricted.body.id)).toBe(false);
    const admin = await call<{ requests: unknown[] }>(s.url, "GET", "/v1/cases/case-mixed", {
      key: s.adminKey,
    });
    expect(admin.body.requests).toHaveLength(2);
  });
});
