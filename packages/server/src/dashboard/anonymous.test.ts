import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";

/** The only `/v1` routes answered without credentials: signing in and using an invite link. */
const PUBLIC = new Set(["POST /v1/sessions", "POST /v1/invites/preview", "POST /v1/invites/accept"]);

describe("anonymous callers", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(() => s.close());

  it("are refused by every /v1 route but the public ones, which still refuse bad input", async () => {
    const doc = await call<{ paths: Record<string, Record<string, unknown>> }>(s.url, "GET", "/openapi.json");
    const routes = Object.entries(doc.body.paths)
      .filter(([path]) => path.startsWith("/v1/"))
      .flatMap(([path, methods]) => Object.keys(methods).map((m) => ({ method: m.toUpperCase(), path })));
    expect(routes.length).toBeGreaterThan(20);
    const seenPublic: string[] = [];
    for (const { method, path } of routes) {
      if (method === "HEAD") continue;
      const url = path.replace(/\{[^}]+\}/g, "x");
      const body = method === "GET" || method === "DELETE" ? undefined : {};
      const res = await call(s.url, method, url, body === undefined ? {} : { body });
      const name = `${method} ${path}`;
      if (PUBLIC.has(name)) {
        seenPublic.push(name);
        expect([400, 410], name).toContain(res.status);
      } else {
        expect(res.status, name).toBe(401);
      }
    }
    expect(seenPublic.sort()).toEqual([...PUBLIC].sort());
  });
});
