import { Type } from "typebox";
import { Strict, Timestamp } from "./common.ts";

const Role = Type.Union([Type.Literal("admin"), Type.Literal("agent"), Type.Literal("reviewer")]);

export const CreateKeyBody = Strict({
  role: Role,
  name: Type.String({ minLength: 1, maxLength: 200 }),
});

export const KeyResource = Type.Object({
  id: Type.String({ description: "key_…" }),
  name: Type.String(),
  role: Role,
  hint: Type.String({ description: "the first characters of the secret, to recognise it" }),
  created_at: Timestamp,
  created_by: Type.Union([Type.String(), Type.Null()]),
  revoked_at: Type.Union([Timestamp, Type.Null()]),
});

export const CreatedKey = Type.Object({
  key: KeyResource,
  secret: Type.String({ description: "the API key itself; shown once, never again" }),
});

export const ListKeysQuery = Strict({ include_revoked: Type.Optional(Type.Boolean({ default: false })) });
