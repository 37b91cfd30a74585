import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STORAGE_KINDS, startTestServer, type TestServer } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";

describe.each(STORAGE_KINDS)("keys and authorisation (%s)", (storage) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ storage });
  });
  afterAll(() => s.close());

  it("refuses calls without a key, with a malformed header, or with an unknown key", async () => {
    for (const headers of [
      {},
      { authorization: "Basic abc" },
      { authorization: "Bearer cs_admin_nope" },
    ] as Array<Record<string, string>>) {
      const res = await call(s.url, "GET", "/v1/requests", { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
    }
    const unknown = await call(s.url, "GET", "/v1/requests", {
      key: `cs_admin_${"A".repeat(43)}`,
    });
    expect(unknown.status).toBe(401);
  });

  it("authenticates before parsing, so an unauthenticated garbage body is a 401, not a 400", async () => {
    const res = await call(s.url, "POST", "/v1/requests", { rawBody: "{not json" });
    expect(res.status).toBe(401);
  });

  it("shows a key's secret once, lists keys without secrets, and revokes them", async () => {
    const created = await call<{ key: { id: string; hint: string }; secret: string }>(
      s.url,
      "POST",
      "/v1/keys",
      {
        key: s.adminKey,
        body: { role: "agent", name: "ci bot" },
      },
    );
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^cs_agent_/);
    const listed = await call<{ data: Array<Record<string, unknown>> }>(s.url, "GET", "/v1/keys", {
      key: s.adminKey,
    });
    const text = JSON.stringify(listed.body);
    expect(text).not.toContain(created.body.secret);
    expect(text).not.toContain("secret_hash");
    expect(listed.body.data.some((k) => k.id === created.body.key.id)).toBe(true);

    expect((await call(s.url, "GET", "/v1/requests", { key: created.body.secret })).status).toBe(200);
    const revoked = await call(s.url, "DELETE", `/v1/keys/${created.body.key.id}`, { key: s.adminKey });
    expect(revoked.status).toBe(200);
    expect((await call(s.url, "GET", "/v1/requests", { key: created.body.secret })).status).toBe(401);
    expect((await call(s.url, "DELETE", `/v1/keys/${created.body.key.id}`, { key: s.adminKey })).status).toBe(
      409,
    );
  });

  it("never lets the last admin key be revoked", async () => {
    const keys = await call<{ data: Array<{ id: string; role: string }> }>(s.url, "GET", "/v1/keys", {
      key: s.adminKey,
    });
    const admins = keys.body.data.filter((k) => k.role === "admin");
    expect(admins).toHaveLength(1);
    const res = await call<{ code: string }>(s.url, "DELETE", `/v1/keys/${admins[0]?.id}`, {
      key: s.adminKey,
    });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe("last_admin");
  });

  it("enforces roles: only admins manage keys, only reviewers and admins respond", async () => {
    const agent = await s.createKey("agent");
    const reviewer = await s.createKey("reviewer");
    expect((await call(s.url, "GET", "/v1/keys", { key: agent })).status).toBe(403);
    expect(
      (await call(s.url, "POST", "/v1/keys", { key: reviewer, body: { role: "admin", name: "x" } })).status,
    ).toBe(403);
    const created = await call<{ id: string }>(s.url, "POST", "/v1/requests", {
      key: agent,
      body: { question: "?" },
    });
    const selfApprove = await call(s.url, "POST", `/v1/requests/${created.body.id}/respond`, {
      key: agent,
      body: { approved: true },
    });
    expect(selfApprove.status).toBe(403);
    expect(
      (await call(s.url, "POST", "/v1/requests", { key: reviewer, body: { question: "?" } })).status,
    ).toBe(403);
    expect((await call(s.url, "GET", "/v1/audit", { key: reviewer })).status).toBe(403);
  });

  it("answers unknown routes with a problem+json 404 and serves health and the OpenAPI document", async () => {
    const missing = await call(s.url, "GET", "/v1/nothing-here", { key: s.adminKey });
    expect(missing.status).toBe(404);
    expect((await call(s.url, "GET", "/healthz")).body).toEqual({ status: "ok" });
    expect((await call(s.url, "GET", "/readyz")).body).toMatchObject({ status: "ready", storage });
    const doc = await call<{ openapi: string; paths: Record<string, unknown> }>(
      s.url,
      "GET",
      "/openapi.json",
    );
    expect(doc.body.openapi).toBe("3.1.0");
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        "/v1/requests",
        "/v1/requests/{id}/wait",
        "/v1/keys",
        "/v1/cases/{correlation_id}",
      ]),
    );
  });

  it("echoes a safe caller request id and puts it in problem bodies", async () => {
    const res = await call<{ request_id: string }>(s.url, "GET", "/v1/requests/req_missing", {
      key: s.adminKey,
      headers: { "x-request-id": "trace-abc-123" },
    });
    expect(res.status).toBe(404);
    expect(res.headers.get("x-request-id")).toBe("trace-abc-123");
    expect(res.body.request_id).toBe("trace-abc-123");
  });
});

describe("authentication cannot be walked around by encoding the path", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(() => s.close());

  it("refuses percent-encoded /v1 paths without a key", async () => {
    for (const path of [
      "/%761/keys",
      "/%76%31/audit",
      "/v%31/keys",
      "/%761/webhooks/callback-signing",
      "/%761/reviewers",
    ]) {
      const res = await fetch(`${s.url}${path}`);
      expect(res.status).toBe(401);
    }
    // The decoded path is the real route: with a key it answers like /v1/keys.
    const withKey = await fetch(`${s.url}/%761/keys`, { headers: { authorization: `Bearer ${s.adminKey}` } });
    expect(withKey.status).toBe(200);
  });
});
