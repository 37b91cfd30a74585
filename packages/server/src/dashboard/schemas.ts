import { type TSchema, Type } from "typebox";
import { Identifier, Principal, Strict, Timestamp } from "../http/schemas/common.ts";

const AccountRole = Type.Union([Type.Literal("admin"), Type.Literal("reviewer")]);
const Email = Type.String({ minLength: 3, maxLength: 254, description: "an email address" });
const Nullable = (t: TSchema) => Type.Union([t, Type.Null()]);

export const SignInBody = Strict({
  email: Email,
  password: Type.String({ minLength: 1, maxLength: 1024 }),
});

export const UpdateAccountBody = Strict({ role: AccountRole });

export const CreateInviteBody = Strict({
  email: Email,
  role: AccountRole,
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  ttl_seconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 30 * 24 * 3600 })),
});

const InviteToken = Type.String({
  minLength: 1,
  maxLength: 200,
  description: "the token from the invite link",
});

export const PreviewInviteBody = Strict({ token: InviteToken });

export const AcceptInviteBody = Strict({
  token: InviteToken,
  password: Type.String({ minLength: 1, maxLength: 1024 }),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
});

export const ListSessionsQuery = Strict({ account_id: Type.Optional(Identifier("account id", 100)) });

export const AccountResource = Type.Object({
  id: Type.String({ description: "usr_…" }),
  email: Type.String(),
  name: Nullable(Type.String()),
  role: AccountRole,
  key_id: Type.String({ description: "the key the account acts as (named by reviews and the audit log)" }),
  created_at: Timestamp,
  created_by: Nullable(Type.String()),
  password_set_at: Timestamp,
  disabled_at: Nullable(Timestamp),
});

export const InviteResource = Type.Object({
  id: Type.String({ description: "inv_…" }),
  email: Type.String(),
  name: Nullable(Type.String()),
  role: AccountRole,
  purpose: Type.Union([Type.Literal("new_account"), Type.Literal("password_reset")]),
  created_at: Timestamp,
  created_by: Type.String(),
  expires_at: Timestamp,
  accepted_at: Nullable(Timestamp),
  revoked_at: Nullable(Timestamp),
});

export const CreatedInvite = Type.Object({
  invite: InviteResource,
  token: Type.String({ description: "shown once; only its hash is stored" }),
  path: Type.String({ description: "the link's path, /invite#<token>" }),
  url: Type.String({ description: "the link as this server sees its own address" }),
});

export const SessionResource = Type.Object({
  id: Type.String({ description: "ses_…" }),
  account_id: Type.String(),
  email: Type.String(),
  created_at: Timestamp,
  last_seen_at: Timestamp,
  expires_at: Timestamp,
  idle_expires_at: Timestamp,
  ip: Nullable(Type.String()),
  user_agent: Nullable(Type.String()),
  current: Type.Boolean(),
});

export const SessionState = Type.Object({
  principal: Principal,
  account: Nullable(AccountResource),
  session: Nullable(Type.Object({ id: Type.String(), expires_at: Timestamp, idle_expires_at: Timestamp })),
  csrf_token: Nullable(Type.String({ description: "send as x-csrf-token on every state-changing call" })),
});

export const EventsHeaders = Type.Object({
  "last-event-id": Type.Optional(
    Type.String({ pattern: "^[0-9]{1,15}$", description: "resume after this seq" }),
  ),
});
