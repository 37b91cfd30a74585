import { Type } from "typebox";
import type { App } from "../http/app-type.ts";
import { principalOf } from "../http/auth.ts";
import { IdParams, responses } from "../http/schemas/common.ts";
import type { Services } from "../http/services.ts";
import {
  CallbackSigningResource,
  CreateWebhookBody,
  DeliveryPage,
  DeliveryResource,
  ListDeliveriesQuery,
  RotateBody,
  WebhookResource,
  WebhookWithSecret,
} from "./http-schemas.ts";

export function webhookRoutes(app: App, services: Services): void {
  const webhooks = services.webhooks;
  const admin = { roles: ["admin" as const] };
  const tags = ["webhooks"];

  app.post(
    "/v1/webhooks",
    {
      config: admin,
      schema: {
        tags,
        summary: "Register a webhook endpoint (its signing secret is shown once)",
        body: CreateWebhookBody,
        response: responses({ 201: WebhookWithSecret }),
      },
    },
    async (req, reply) => reply.code(201).send(await webhooks.create(req.body, principalOf(req))),
  );

  app.get(
    "/v1/webhooks",
    {
      config: admin,
      schema: {
        tags,
        summary: "List webhook endpoints (never their secrets)",
        response: responses({ 200: Type.Object({ data: Type.Array(WebhookResource) }) }),
      },
    },
    async () => ({ data: await webhooks.list() }),
  );

  app.get(
    "/v1/webhooks/:id",
    {
      config: admin,
      schema: {
        tags,
        summary: "Get a webhook endpoint",
        params: IdParams,
        response: responses({ 200: WebhookResource }),
      },
    },
    async (req) => webhooks.get(req.params.id),
  );

  app.delete(
    "/v1/webhooks/:id",
    {
      config: admin,
      schema: {
        tags,
        summary: "Delete a webhook endpoint; its pending deliveries are cancelled",
        params: IdParams,
        response: responses({ 200: WebhookResource }),
      },
    },
    async (req) => webhooks.remove(req.params.id, principalOf(req)),
  );

  app.post(
    "/v1/webhooks/:id/rotate",
    {
      config: admin,
      schema: {
        tags,
        summary: "Rotate the signing secret; the old one keeps signing during the grace period",
        params: IdParams,
        body: Type.Optional(RotateBody),
        response: responses({ 200: WebhookWithSecret }),
      },
    },
    async (req) => webhooks.rotate(req.params.id, req.body?.grace_seconds, principalOf(req)),
  );

  app.get(
    "/v1/webhooks/callback-signing",
    {
      config: admin,
      schema: {
        tags,
        summary: "The secret and public key that sign request callbacks (callback_url)",
        response: responses({ 200: CallbackSigningResource }),
      },
    },
    async () => webhooks.callbackSigning(),
  );

  app.post(
    "/v1/webhooks/callback-signing/rotate",
    {
      config: admin,
      schema: {
        tags,
        summary: "Rotate the callback signing secret and key; the old ones sign too during the grace period",
        body: Type.Optional(RotateBody),
        response: responses({ 200: CallbackSigningResource }),
      },
    },
    async (req) => webhooks.rotateCallbackSigning(req.body?.grace_seconds, principalOf(req)),
  );

  app.get(
    "/v1/webhooks/deliveries",
    {
      config: admin,
      schema: {
        tags,
        summary: "List deliveries, newest first, with every attempt (status=dead: the dead letters)",
        querystring: ListDeliveriesQuery,
        response: responses({ 200: DeliveryPage }),
      },
    },
    async (req) => {
      const q = req.query;
      return webhooks.listDeliveries({
        limit: q.limit ?? 50,
        ...(q.status ? { status: q.status } : {}),
        ...(q.endpoint_id ? { endpoint_id: q.endpoint_id } : {}),
        ...(q.subject_id ? { subject_id: q.subject_id } : {}),
        ...(q.cursor ? { before_id: q.cursor } : {}),
      });
    },
  );

  app.get(
    "/v1/webhooks/deliveries/:id",
    {
      config: admin,
      schema: {
        tags,
        summary: "Get a delivery and its attempts",
        params: IdParams,
        response: responses({ 200: DeliveryResource }),
      },
    },
    async (req) => webhooks.getDelivery(req.params.id),
  );

  app.post(
    "/v1/webhooks/deliveries/:id/redrive",
    {
      config: admin,
      schema: {
        tags,
        summary:
          "Send a dead-lettered (or aborted) delivery again, same webhook-id, from the start of the schedule",
        params: IdParams,
        response: responses({ 200: DeliveryResource }),
      },
    },
    async (req) => webhooks.redrive(req.params.id, principalOf(req)),
  );
}
