import { Type } from "typebox";
import type { App } from "../app-type.ts";
import { sendProblem } from "../problem.ts";
import { responses } from "../schemas/common.ts";
import type { Services } from "../services.ts";

export function opsRoutes(app: App, services: Services): void {
  app.get(
    "/healthz",
    {
      schema: {
        tags: ["operations"],
        summary: "Liveness",
        security: [],
        response: { 200: Type.Object({ status: Type.String() }) },
      },
    },
    async () => ({ status: "ok" }),
  );

  app.get(
    "/readyz",
    {
      schema: {
        tags: ["operations"],
        summary: "Readiness: the database answers",
        security: [],
        response: responses({ 200: Type.Object({ status: Type.String(), storage: Type.String() }) }),
      },
    },
    async (req, reply) => {
      try {
        await services.store.ping();
        return { status: "ready", storage: services.store.dialect };
      } catch (error) {
        req.log.warn({ err: error }, "readiness check failed");
        // The reason (no connection, or a failed fsync that stopped all writes) goes to the log only.
        return sendProblem(
          reply,
          req,
          503,
          "unavailable",
          "the database does not answer, or cannot make writes durable; see the server log",
        );
      }
    },
  );

  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
}
