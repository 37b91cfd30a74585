import { Type } from "typebox";
import type { App } from "../app-type.ts";
import { principalOf } from "../auth.ts";
import { IdParams, responses } from "../schemas/common.ts";
import { CreatedKey, CreateKeyBody, KeyResource, ListKeysQuery } from "../schemas/keys.ts";
import type { Services } from "../services.ts";

export function keyRoutes(app: App, services: Services): void {
  app.post(
    "/v1/keys",
    {
      config: { roles: ["admin"] },
      schema: {
        tags: ["keys"],
        summary: "Create an API key (the secret is shown once)",
        body: CreateKeyBody,
        response: responses({ 201: CreatedKey }),
      },
    },
    async (req, reply) => reply.code(201).send(await services.keys.create(req.body, principalOf(req))),
  );

  app.get(
    "/v1/keys",
    {
      config: { roles: ["admin"] },
      schema: {
        tags: ["keys"],
        summary: "List API keys (never their secrets)",
        querystring: ListKeysQuery,
        response: responses({ 200: Type.Object({ data: Type.Array(KeyResource) }) }),
      },
    },
    async (req) => ({ data: await services.keys.list(req.query.include_revoked ?? false) }),
  );

  app.delete(
    "/v1/keys/:id",
    {
      config: { roles: ["admin"] },
      schema: {
        tags: ["keys"],
        summary: "Revoke an API key",
        params: IdParams,
        response: responses({ 200: KeyResource }),
      },
    },
    async (req) => services.keys.revoke(req.params.id, principalOf(req)),
  );
}
