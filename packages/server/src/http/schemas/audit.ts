import { Type } from "typebox";
import { ActionResource } from "./actions.ts";
import { Strict, Timestamp } from "./common.ts";
import { RequestResource } from "./requests.ts";

export const AuditEntrySchema = Type.Object({
  seq: Type.Integer(),
  at: Timestamp,
  kind: Type.String(),
  subject_id: Type.String(),
  correlation_id: Type.Union([Type.String(), Type.Null()]),
  actor: Type.Object({
    type: Type.String(),
    key_id: Type.Optional(Type.String()),
    name: Type.Optional(Type.String()),
    role: Type.Optional(Type.String()),
  }),
  data: Type.Record(Type.String(), Type.Unknown()),
  prev_hash: Type.String(),
  hash: Type.String({ description: "SHA-256(prev_hash ‖ JCS(entry without hash)), hex" }),
});

export const AuditQuery = Strict({
  after_seq: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
});

export const AuditPage = Type.Object({
  data: Type.Array(AuditEntrySchema),
  next_after_seq: Type.Union([Type.Integer(), Type.Null()]),
});

export const CaseResource = Type.Object({
  correlation_id: Type.String(),
  requests: Type.Array(RequestResource),
  actions: Type.Array(ActionResource),
  timeline: Type.Array(AuditEntrySchema),
});

export const VerifyResult = Type.Object({
  ok: Type.Boolean(),
  entries: Type.Integer(),
  head_hash: Type.Optional(Type.String()),
  first_broken_seq: Type.Optional(Type.Integer()),
  reason: Type.Optional(Type.String()),
});
