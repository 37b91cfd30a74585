import type { App } from "../app-type.ts";
import { principalOf } from "../auth.ts";
import { ActionResource, LogActionBody } from "../schemas/actions.ts";
import { AuditPage, AuditQuery, CaseResource, VerifyResult } from "../schemas/audit.ts";
import { Identifier, responses, Strict } from "../schemas/common.ts";
import type { Services } from "../services.ts";

export function auditRoutes(app: App, services: Services): void {
  app.post(
    "/v1/actions",
    {
      config: { roles: ["agent", "admin"] },
      schema: {
        tags: ["audit"],
        summary: "Log an action the agent took (log_action)",
        body: LogActionBody,
        response: responses({ 201: ActionResource }),
      },
    },
    async (req, reply) => reply.code(201).send(await services.actions.log(principalOf(req), req.body)),
  );

  app.get(
    "/v1/audit",
    {
      config: { roles: ["admin"] },
      schema: {
        tags: ["audit"],
        summary: "Page through the hash-chained audit log",
        querystring: AuditQuery,
        response: responses({ 200: AuditPage }),
      },
    },
    async (req) => services.audit.list(req.query.after_seq ?? 0, req.query.limit ?? 100),
  );

  app.get(
    "/v1/audit/verify",
    {
      config: { roles: ["admin"] },
      schema: {
        tags: ["audit"],
        summary: "Recompute the whole audit chain and report the first broken entry",
        response: responses({ 200: VerifyResult }),
      },
    },
    async () => services.audit.verify(),
  );

  app.get(
    "/v1/cases/:correlation_id",
    {
      config: { roles: ["agent", "reviewer", "admin"] },
      schema: {
        tags: ["audit"],
        summary: "Everything in one case, as one ordered timeline",
        params: Strict({ correlation_id: Identifier("correlation id") }),
        response: responses({ 200: CaseResource }),
      },
    },
    async (req) => services.audit.getCase(principalOf(req), req.params.correlation_id),
  );
}
