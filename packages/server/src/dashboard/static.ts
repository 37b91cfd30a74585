import { existsSync, readdirSync } from "node:fs";
import { extname, join, relative, sep } from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyReply } from "fastify";
import type { App } from "../http/app-type.ts";
import { sendProblem } from "../http/problem.ts";

/** Paths that belong to the API: never answered with the dashboard's page. */
const API_PREFIXES = ["/v1/", "/humanlayer/", "/.well-known/"];
const API_ROOTS = new Set(["/v1", "/humanlayer", "/.well-known"]);

/**
 * The page may load only what it was built with, from here: no inline script or style, no other
 * origin, no framing, no plugins. Everything the dashboard needs is bundled.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
].join("; ");

function securityHeaders(reply: FastifyReply): void {
  reply.header("content-security-policy", CONTENT_SECURITY_POLICY);
  reply.header("x-content-type-options", "nosniff");
  reply.header("referrer-policy", "no-referrer");
  reply.header("x-frame-options", "DENY");
  reply.header("cross-origin-opener-policy", "same-origin");
  reply.header("cross-origin-resource-policy", "same-origin");
  reply.header("permissions-policy", "camera=(), microphone=(), geolocation=(), payment=()");
}

/** Every file of the build, as URL paths (`/assets/index-abc.js`); nothing else is ever served. */
function listFiles(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) {
        const rel = relative(root, full);
        files.set(`/${rel.split(sep).join("/")}`, rel);
      }
    }
  };
  walk(root);
  return files;
}

const NOT_BUILT =
  "The Countersign dashboard is not built. Run `npm start` (which builds it when missing) or " +
  "`npm run build -w @countersign/dashboard`, then restart the server. The API works without it.";

/**
 * Serves the built dashboard at `/`: known files as they are (hashed assets cached for good), and
 * the app's page for any other path outside the API, so deep links like `/requests/req_…` work.
 */
export function staticRoutes(app: App, distDir: string): void {
  app.register(async (scope) => {
    const built = existsSync(join(distDir, "index.html"));
    const files = built ? listFiles(distDir) : new Map<string, string>();
    if (built)
      await scope.register(fastifyStatic, { root: distDir, serve: false, index: false, cacheControl: false });

    scope.get("/*", { schema: { hide: true } }, async (req, reply) => {
      const path = req.url.split("?")[0] ?? "/";
      if (API_ROOTS.has(path) || API_PREFIXES.some((p) => path.startsWith(p))) {
        return sendProblem(reply, req, 404, "not_found", `no route GET ${path}`);
      }
      securityHeaders(reply);
      if (!built) return reply.code(503).type("text/plain; charset=utf-8").send(NOT_BUILT);
      let decoded: string;
      try {
        decoded = decodeURIComponent(path);
      } catch {
        return reply.code(400).type("text/plain; charset=utf-8").send("malformed path");
      }
      const file = files.get(decoded);
      if (file && file !== "index.html") {
        const immutable = file.startsWith(`assets${sep}`);
        reply.header(
          "cache-control",
          immutable ? "public, max-age=31536000, immutable" : "public, max-age=3600",
        );
        return reply.sendFile(file);
      }
      // A missing file (a stale asset link, /favicon.ico) is a plain 404, not the app's page.
      if (extname(decoded) !== "") return reply.code(404).type("text/plain; charset=utf-8").send("not found");
      reply.header("cache-control", "no-cache");
      return reply.type("text/html; charset=utf-8").sendFile("index.html");
    });
  });
}
