import { randomUUID } from "node:crypto";
import type { Principal } from "@countersign/core";
import swagger from "@fastify/swagger";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import Fastify, { type FastifyServerOptions } from "fastify";
import { dashboardRoutes } from "../dashboard/routes.ts";
import { webhookRoutes } from "../webhooks/routes.ts";
import type { App } from "./app-type.ts";
import { authenticate, cachedPrincipal } from "./auth.ts";
import { errorHandler, sendProblem } from "./problem.ts";
import { defaultPerIpLimit, installRateLimit } from "./rate-limit.ts";
import { auditRoutes } from "./routes/audit.ts";
import { governanceRoutes } from "./routes/governance.ts";
import { keyRoutes } from "./routes/keys.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { opsRoutes } from "./routes/ops.ts";
import { requestRoutes } from "./routes/requests.ts";
import { reviewerRoutes } from "./routes/reviewers.ts";
import { tokenRoutes } from "./routes/tokens.ts";
import type { Services } from "./services.ts";
import { installValidators } from "./validation.ts";

export interface AppOptions {
  services: Services;
  /** pino options, or false for silence (tests). */
  logger?: FastifyServerOptions["logger"];
  /** Calls per minute per authenticated caller (its key); 0 or absent: no limit. */
  rateLimitPerMinute?: number;
  /**
   * Calls per minute per client address without valid credentials (public routes, failed
   * authentication); 0: no limit; absent: twice `rateLimitPerMinute`.
   */
  rateLimitPerIpPerMinute?: number;
  /** Maximum request body in bytes (default 1 MiB). */
  bodyLimit?: number;
  version?: string;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export async function buildApp(options: AppOptions): Promise<App> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    // Honour a caller's x-request-id when it is safe to log; otherwise mint one.
    genReqId: (req) => {
      const given = req.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    },
    return503OnClosing: true,
  }).withTypeProvider<TypeBoxTypeProvider>();

  installValidators(app);
  // An empty JSON body (e.g. a bodyless cancel sent with a JSON content type) means "no body".
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (req, body, done) => {
    const text = typeof body === "string" ? body : body.toString("utf8");
    if (text.trim() === "") return done(null, undefined);
    return parseJson(req, text, done);
  });
  // Policies can be PUT as YAML text.
  app.addContentTypeParser(
    ["application/yaml", "application/x-yaml", "text/yaml", "text/plain"],
    { parseAs: "string" },
    (_req, body, done) => done(null, body),
  );
  // Responses are described by schemas for the OpenAPI document, but serialised as-is: a schema
  // must never silently drop a field of a resource.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((req, reply) =>
    sendProblem(reply, req, 404, "not_found", `no route ${req.method} ${req.url.split("?")[0]}`),
  );

  const shutdown = new AbortController();
  app.addHook("preClose", async () => shutdown.abort());

  app.decorateRequest("principal", null);
  // First of the onRequest hooks (they run in the order added): an address that has spent its
  // allowance of unauthenticated or failed calls is refused before its credential is looked up.
  const perPrincipal = options.rateLimitPerMinute ?? 0;
  await installRateLimit(app, {
    perPrincipal,
    perIp: options.rateLimitPerIpPerMinute ?? defaultPerIpLimit(perPrincipal),
    trustProxy: options.services.dashboard.options.trustProxy,
  });
  // Callback style with a synchronous path for keys authenticated a moment ago: this runs before
  // every API call, and an async hook costs a promise and a trip through the microtask queue.
  app.addHook("onRequest", (req, reply, done) => {
    reply.header("x-request-id", String(req.id));
    // Decided by the matched route, never by the raw URL: the router decodes the path (`/%761/keys`
    // reaches `/v1/keys`), so a prefix test on `req.url` could be walked around.
    const roles = req.routeOptions.config.roles;
    // No roles: an unknown route (answered 404) or a public one (sign-in, invite acceptance).
    if (!roles) return done();
    // The HumanLayer-compatible API authenticates its own callers (bearer keys only).
    if (req.routeOptions.url?.startsWith("/humanlayer/")) return done();
    const admit = (principal: Principal): void => {
      req.principal = principal;
      if (roles.includes(principal.role)) {
        done();
        return;
      }
      // Answered here: the chain stops without `done`.
      sendProblem(
        reply,
        req,
        403,
        "forbidden",
        `this endpoint needs a key with role ${roles.join(" or ")}; yours is ${principal.role}`,
      );
    };
    const cached = cachedPrincipal(req, options.services.keys);
    if (cached) return admit(cached);
    // A bearer key, or a dashboard session cookie (whose state-changing calls need the CSRF token).
    authenticate(req, options.services.keys, options.services.dashboard.sessions).then(admit, done);
  });

  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Countersign API",
        version: options.version ?? "0.1.0",
        description: "Human approval and governance gateway for AI agents.",
      },
      components: {
        securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "a Countersign API key" } },
      },
      security: [{ bearer: [] }],
    },
  });

  opsRoutes(app, options.services);
  metricsRoutes(app, options.services);
  keyRoutes(app, options.services);
  requestRoutes(app, options.services, shutdown.signal);
  reviewerRoutes(app, options.services);
  auditRoutes(app, options.services);
  governanceRoutes(app, options.services);
  tokenRoutes(app, options.services);
  // The HumanLayer-compatible API, with its own bearer authentication (see humanlayer/plugin.ts).
  await app.register((await import("../humanlayer/plugin.ts")).humanLayerApi(options.services), {
    prefix: "/humanlayer/v1",
  });
  webhookRoutes(app, options.services);
  dashboardRoutes(app, options.services, shutdown.signal);

  return app;
}
