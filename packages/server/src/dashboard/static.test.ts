import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing/harness.ts";

async function withDashboardDir<T>(dir: string, start: () => Promise<T>): Promise<T> {
  const previous = process.env.COUNTERSIGN_DASHBOARD_DIR;
  process.env.COUNTERSIGN_DASHBOARD_DIR = dir;
  try {
    return await start();
  } finally {
    if (previous === undefined) delete process.env.COUNTERSIGN_DASHBOARD_DIR;
    else process.env.COUNTERSIGN_DASHBOARD_DIR = previous;
  }
}

describe("the dashboard's static files", () => {
  let dist: string;
  let s: TestServer;
  const get = (path: string) => fetch(`${s.url}${path}`);

  beforeAll(async () => {
    dist = mkdtempSync(join(tmpdir(), "countersign-dist-"));
    mkdirSync(join(dist, "assets"));
    writeFileSync(join(dist, "index.html"), "<!doctype html><title>Countersign</title>");
    writeFileSync(join(dist, "assets", "app-1a2b3c.js"), "console.log('app')");
    writeFileSync(join(dist, "favicon.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>");
    writeFileSync(join(tmpdir(), "countersign-secret.txt"), "outside the build");
    s = await withDashboardDir(dist, () => startTestServer());
  });
  afterAll(async () => {
    await s.close();
    rmSync(dist, { recursive: true, force: true });
  });

  it("serves the app's page at / with a strict content security policy", async () => {
    const res = await get("/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(await res.text()).toContain("<title>Countersign</title>");
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("cache-control")).toBe("no-cache");
  });

  it("answers deep links with the app's page, so a reload of /requests/… works", async () => {
    for (const path of ["/requests/req_123", "/cases/run-7", "/invite"]) {
      const res = await get(path);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain("<title>Countersign</title>");
    }
  });

  it("serves built files, caching hashed assets for good", async () => {
    const js = await get("/assets/app-1a2b3c.js");
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toContain("javascript");
    expect(js.headers.get("cache-control")).toContain("immutable");
    expect(await js.text()).toBe("console.log('app')");
    expect((await get("/favicon.svg")).headers.get("content-type")).toContain("image/svg+xml");
  });

  it("answers missing files with 404, never with the page, and serves nothing outside the build", async () => {
    expect((await get("/assets/gone-000.js")).status).toBe(404);
    expect((await get("/favicon.ico")).status).toBe(404);
    for (const path of [
      "/../countersign-secret.txt",
      "/%2e%2e/countersign-secret.txt",
      "/assets/..%2f..%2fcountersign-secret.txt",
    ]) {
      const res = await get(path);
      expect(await res.text()).not.toContain("outside the build");
    }
  });

  it("leaves the API alone: unknown API paths are problem+json 404s", async () => {
    for (const path of ["/v1/nothing-here", "/v1", "/humanlayer/v1/nothing", "/.well-known/nothing"]) {
      const res = await get(path);
      expect(res.status).toBe(404);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
    }
    const post = await fetch(`${s.url}/somewhere`, { method: "POST" });
    expect(post.status).toBe(404);
    expect((await get("/healthz")).headers.get("content-type")).toContain("application/json");
  });

  it("says how to build the dashboard when it is not built, and the API still works", async () => {
    const empty = mkdtempSync(join(tmpdir(), "countersign-nodist-"));
    const bare = await withDashboardDir(empty, () => startTestServer());
    try {
      const res = await fetch(`${bare.url}/`);
      expect(res.status).toBe(503);
      expect(await res.text()).toContain("npm start");
      expect((await fetch(`${bare.url}/healthz`)).status).toBe(200);
    } finally {
      await bare.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
