import { Type } from "typebox";
import { Identifier, Strict, Timestamp } from "../http/schemas/common.ts";
import { EVENT_TYPES } from "./events.ts";
import { DELIVERY_STATUSES } from "./repo.ts";

const EventTypeSchema = Type.Union(
  EVENT_TYPES.map((t) => Type.Literal(t)),
  { description: "an event type" },
);
const Signing = Type.Union([Type.Literal("hmac"), Type.Literal("ed25519")], {
  description:
    "hmac: `v1` HMAC-SHA256 signatures with the endpoint's secret; ed25519: the same plus `v1a` Ed25519 signatures verifiable with its public key",
});
const DeliveryStatus = Type.Union(DELIVERY_STATUSES.map((s) => Type.Literal(s)));
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

export const CreateWebhookBody = Strict({
  url: Type.String({
    format: "uri",
    maxLength: 2048,
    pattern: "^https?://",
    description: "where events are POSTed; internal addresses are refused unless allow-listed",
  }),
  events: Type.Array(EventTypeSchema, { minItems: 1, maxItems: EVENT_TYPES.length, uniqueItems: true }),
  description: Type.Optional(Type.String({ maxLength: 500 })),
  signing: Type.Optional(Signing),
});

export const RotateBody = Strict({
  grace_seconds: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 7 * 86_400,
      description: "how long the previous secret keeps signing beside the new one (default 86400)",
    }),
  ),
});

export const WebhookResource = Type.Object({
  id: Type.String({ description: "whk_…" }),
  url: Type.String(),
  events: Type.Array(EventTypeSchema),
  description: Nullable(Type.String()),
  signing: Signing,
  public_key: Nullable(Type.String({ description: "whpk_… (ed25519 signing only)" })),
  previous_secret_expires_at: Nullable(Timestamp),
  created_at: Timestamp,
  updated_at: Timestamp,
  deleted_at: Nullable(Timestamp),
});

export const WebhookWithSecret = Type.Intersect([
  WebhookResource,
  Type.Object({
    secret: Type.String({ description: "whsec_…: the signing secret; shown only in this answer" }),
  }),
]);

export const CallbackSigningResource = Type.Object({
  secret: Type.String({ description: "whsec_…: signs the v1 signature of every request callback" }),
  public_key: Type.String({ description: "whpk_…: verifies their v1a (Ed25519) signature" }),
  previous_secret_expires_at: Nullable(Timestamp),
});

const AttemptResource = Type.Object({
  attempt: Type.Integer(),
  at: Timestamp,
  outcome: Type.String({ description: "delivered | failed | refused | interrupted" }),
  status_code: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
  response: Nullable(Type.String({ description: "the start of the receiver's answer" })),
  duration_ms: Type.Integer(),
});

export const DeliveryResource = Type.Object({
  id: Type.String({ description: "dlv_…" }),
  message_id: Type.String({ description: "the webhook-id header of every attempt" }),
  event_type: EventTypeSchema,
  target: Type.Union([Type.Literal("endpoint"), Type.Literal("callback")]),
  endpoint_id: Nullable(Type.String()),
  url: Type.String(),
  subject_id: Type.String({ description: "the request, governed call, action… the event is about" }),
  correlation_id: Nullable(Type.String()),
  status: DeliveryStatus,
  attempt_count: Type.Integer(),
  next_attempt_at: Nullable(Timestamp),
  last_error: Nullable(Type.String()),
  created_at: Timestamp,
  updated_at: Timestamp,
  delivered_at: Nullable(Timestamp),
  dead_lettered_at: Nullable(Timestamp),
  attempts: Type.Array(AttemptResource),
});

export const ListDeliveriesQuery = Strict({
  status: Type.Optional(DeliveryStatus),
  endpoint_id: Type.Optional(Identifier("endpoint id", 100)),
  subject_id: Type.Optional(Identifier("request (or other subject) id", 100)),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
  cursor: Type.Optional(Identifier("next_cursor from the previous page", 100)),
});

export const DeliveryPage = Type.Object({
  data: Type.Array(DeliveryResource),
  next_cursor: Nullable(Type.String()),
});
