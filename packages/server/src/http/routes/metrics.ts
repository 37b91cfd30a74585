import type { App } from "../app-type.ts";
import { authenticate, requireRole } from "../auth.ts";
import type { Services } from "../services.ts";

/**
 * `GET /metrics` in the Prometheus text format, for an admin key (Prometheus sends it with
 * `authorization: {credentials: …}`): metrics name routes, volumes and timings, which are not for
 * everyone. Also times every request by its route pattern (never the raw URL, which holds ids).
 */
export function metricsRoutes(app: App, services: Services): void {
  // Callback style rather than async: it runs for every request, and nothing in it waits.
  app.addHook("onResponse", (req, reply, done) => {
    const route = req.routeOptions.url ?? "unmatched";
    services.metrics.observeHttp(req.method, route, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  app.get(
    "/metrics",
    { schema: { tags: ["operations"], summary: "Prometheus metrics (admin key)", hide: false } },
    async (req, reply) => {
      requireRole(await authenticate(req, services.keys), "admin");
      const { contentType, body } = await services.metrics.render();
      return reply.type(contentType).send(body);
    },
  );
}
