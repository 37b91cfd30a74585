import { ValidationError } from "@countersign/core";
import { Type } from "typebox";
import type { GovernanceServices } from "../../services/governance.ts";
import type { App } from "../app-type.ts";
import { principalOf } from "../auth.ts";
import { IdParams, responses } from "../schemas/common.ts";
import {
  GovernBody,
  GovernResultSchema,
  GrantBody,
  IncludeInactiveQuery,
  KillSwitchBody,
  PutPolicyBody,
} from "../schemas/governance.ts";

export function governanceRoutes(app: App, g: GovernanceServices): void {
  app.post(
    "/v1/govern",
    {
      config: { roles: ["agent"] },
      schema: {
        tags: ["governance"],
        summary: "Decide a tool call: allow, deny or approval_required",
        description:
          "Idempotent on (agent, run_id, call_id). approval_required parks the call as a request and returns its id at once.",
        body: GovernBody,
        response: responses({ 200: GovernResultSchema }),
      },
    },
    async (req, reply) => {
      const result = await g.govern.govern(principalOf(req), req.body);
      // A fresh decision's stored document is this very result, already serialised.
      const json = g.govern.jsonOf(result);
      if (json !== undefined) return reply.type("application/json; charset=utf-8").send(json);
      return result;
    },
  );

  app.get(
    "/v1/policy",
    {
      config: { roles: ["admin", "reviewer"] },
      schema: { tags: ["governance"], summary: "The policy in force, with its version hash" },
    },
    async () => g.policy.info(),
  );

  app.put(
    "/v1/policy",
    {
      config: { roles: ["admin"] },
      schema: {
        tags: ["governance"],
        summary: "Put a new policy in force (YAML as application/yaml, or JSON {source})",
        description:
          "A broken policy is rejected whole with every problem and its line; the old one stays in force.",
        body: Type.Union([PutPolicyBody, Type.String({ minLength: 1, maxLength: 1_000_000 })]),
      },
    },
    async (req) => {
      const source = typeof req.body === "string" ? req.body : req.body.source;
      return g.policy.put(source, principalOf(req));
    },
  );

  app.get(
    "/v1/kill-switch",
    {
      config: { roles: ["admin", "reviewer"] },
      schema: {
        tags: ["governance"],
        summary: "Kill switches (engaged ones unless include_inactive)",
        querystring: IncludeInactiveQuery,
      },
    },
    async (req) => ({ data: await g.killSwitch.list(req.query.include_inactive ?? false) }),
  );

  app.post(
    "/v1/kill-switch",
    {
      config: { roles: ["admin"] },
      schema: {
        tags: ["governance"],
        summary: "Engage (for everything, one agent, or one run) or release a kill switch",
        body: KillSwitchBody,
      },
    },
    async (req, reply) => {
      const body = req.body;
      const by = principalOf(req);
      if (!body.engaged) {
        if (!body.id)
          throw new ValidationError("name the switch to release", [{ path: "/id", message: "is required" }]);
        return g.killSwitch.release(by, body.id, body.reason);
      }
      if (!body.scope || !body.reason) {
        throw new ValidationError("engaging a kill switch needs scope and reason", [
          ...(!body.scope ? [{ path: "/scope", message: "is required" }] : []),
          ...(!body.reason ? [{ path: "/reason", message: "is required" }] : []),
        ]);
      }
      const engaged = await g.killSwitch.engage(by, {
        scope: body.scope,
        reason: body.reason,
        ...(body.agent ? { agent: body.agent } : {}),
        ...(body.run_id ? { run_id: body.run_id } : {}),
      });
      return reply.code(201).send(engaged);
    },
  );

  app.post(
    "/v1/grants",
    {
      config: { roles: ["admin", "reviewer"] },
      schema: {
        tags: ["governance"],
        summary: "Give a standing approval",
        description:
          "Bounded: expires_at or ttl_seconds (at most 30 days) or max_uses. agent is an agent key id. Admins may grant anything; a reviewer only what they could approve alone (one approval, roles they hold, no default deny) for an agent key they do not own.",
        body: GrantBody,
      },
    },
    async (req, reply) => reply.code(201).send(await g.grants.create(principalOf(req), req.body)),
  );

  app.get(
    "/v1/grants",
    {
      config: { roles: ["admin", "reviewer"] },
      schema: { tags: ["governance"], summary: "Standing approvals", querystring: IncludeInactiveQuery },
    },
    async (req) => ({ data: await g.grants.list(req.query.include_inactive ?? false) }),
  );

  app.delete(
    "/v1/grants/:id",
    {
      config: { roles: ["admin", "reviewer"] },
      schema: { tags: ["governance"], summary: "Revoke a standing approval", params: IdParams },
    },
    async (req) => g.grants.revoke(principalOf(req), req.params.id),
  );
}
