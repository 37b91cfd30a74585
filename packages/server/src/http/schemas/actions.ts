import { Type } from "typebox";
import { Identifier, JsonObject, Principal, Strict, Timestamp } from "./common.ts";
import { SourceSchema } from "./requests.ts";

const Severity = Type.Union([
  Type.Literal("debug"),
  Type.Literal("info"),
  Type.Literal("notice"),
  Type.Literal("warning"),
  Type.Literal("error"),
  Type.Literal("critical"),
]);

export const LogActionBody = Strict({
  action: Identifier("what was done, e.g. 'email.sent'", 200),
  summary: Type.String({ minLength: 1, maxLength: 4000 }),
  source: Type.Optional(SourceSchema),
  outcome: Type.Optional(Type.String({ maxLength: 200 })),
  severity: Type.Optional(Severity),
  correlation_id: Type.Optional(Identifier("case id")),
  in_reply_to: Type.Optional(Strict({ type: Identifier("e.g. 'request'", 50), id: Identifier("id", 100) })),
  trace_id: Type.Optional(Identifier("trace id")),
  metadata: Type.Optional(JsonObject),
});

export const ActionResource = Type.Object({
  id: Type.String({ description: "act_…" }),
  action: Type.String(),
  summary: Type.String(),
  source: Type.Union([SourceSchema, Type.Null()]),
  outcome: Type.Union([Type.String(), Type.Null()]),
  severity: Severity,
  correlation_id: Type.String(),
  in_reply_to: Type.Union([Type.Object({ type: Type.String(), id: Type.String() }), Type.Null()]),
  trace_id: Type.Union([Type.String(), Type.Null()]),
  metadata: Type.Union([JsonObject, Type.Null()]),
  created_by: Principal,
  created_at: Timestamp,
});
