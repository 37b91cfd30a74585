import { Type } from "typebox";
import { Identifier, JsonObject, RoleName, Strict, Timestamp } from "./common.ts";

const Weekday = Type.Union(
  [
    Type.Literal("mon"),
    Type.Literal("tue"),
    Type.Literal("wed"),
    Type.Literal("thu"),
    Type.Literal("fri"),
    Type.Literal("sat"),
    Type.Literal("sun"),
  ],
  { description: "a day of the week" },
);

const Clock = (description: string) =>
  Type.String({ pattern: "^([01][0-9]|2[0-4]):[0-5][0-9]$", description });

export const ShiftSchema = Strict(
  {
    days: Type.Array(Weekday, { minItems: 1, maxItems: 7, uniqueItems: true }),
    start: Clock("local start time, HH:MM"),
    end: Clock("local end time, HH:MM; 24:00 is midnight; at or before start: the shift ends the next day"),
  },
  { description: "a weekly shift in the reviewer's timezone" },
);

const LocalDate = (description: string) =>
  Type.String({ pattern: "^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2})?$", description });

export const OverrideSchema = Strict(
  {
    kind: Type.Union([Type.Literal("off"), Type.Literal("on")], {
      description: "off: out of office (wins over everything); on: extra on-call",
    }),
    from: LocalDate("local start, YYYY-MM-DD (00:00) or YYYY-MM-DDTHH:MM"),
    to: LocalDate("local end, YYYY-MM-DD (that whole day) or YYYY-MM-DDTHH:MM (exclusive)"),
    note: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { description: "a dated exception to the weekly shifts" },
);

const KeyId = Identifier("an API key id, key_…", 100);
const Roles = Type.Array(RoleName, { maxItems: 50 });
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const Email = Type.String({ format: "email", maxLength: 320 });
const SlackUserId = Type.String({
  pattern: "^[A-Z0-9]{2,40}$",
  description: "Slack member id, e.g. U024BE7LH",
});
const Phone = Type.String({
  pattern: "^\\+?[0-9 ().-]{4,30}$",
  description: "phone number, E.164 preferred",
});

const reviewerFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  roles: Roles,
  fallback_for: Type.Optional(Roles),
  timezone: Type.String({ minLength: 1, maxLength: 64, description: "IANA timezone, e.g. Europe/Paris" }),
  shifts: Type.Optional(Type.Array(ShiftSchema, { maxItems: 50 })),
  overrides: Type.Optional(Type.Array(OverrideSchema, { maxItems: 200 })),
  email: Type.Optional(Nullable(Email)),
  slack_user_id: Type.Optional(Nullable(SlackUserId)),
  phone: Type.Optional(Nullable(Phone)),
  key_id: Type.Optional(Nullable(KeyId)),
  owns_agent_keys: Type.Optional(
    Type.Array(KeyId, {
      maxItems: 100,
      description: "agent keys this person owns: they never count towards those agents' quorums",
    }),
  ),
};

export const CreateReviewerBody = Strict(reviewerFields);

export const UpdateReviewerBody = Strict({
  ...reviewerFields,
  name: Type.Optional(reviewerFields.name),
  roles: Type.Optional(Roles),
  timezone: Type.Optional(reviewerFields.timezone),
});

export const ListReviewersQuery = Strict({
  role: Type.Optional(RoleName),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(Identifier("next_cursor from the previous page", 100)),
});

export const ReviewerResource = Type.Object(
  {
    id: Type.String({ description: "rvw_…" }),
    name: Type.String(),
    roles: Type.Array(Type.String()),
    fallback_for: Type.Array(Type.String()),
    timezone: Type.String(),
    shifts: Type.Array(ShiftSchema),
    overrides: Type.Array(OverrideSchema),
    email: Type.Union([Type.String(), Type.Null()]),
    slack_user_id: Type.Union([Type.String(), Type.Null()]),
    phone: Type.Union([Type.String(), Type.Null()]),
    key_id: Type.Union([Type.String(), Type.Null()]),
    owns_agent_keys: Type.Array(Type.String()),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { description: "A person requests are routed to" },
);

export const ReviewerList = Type.Object({
  data: Type.Array(ReviewerResource),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});

export const ControlMapBody = Strict({
  approval_requirements: Strict({
    required_roles: Type.Optional(Roles),
    required_approvals: Type.Optional(Type.Integer({ minimum: 1, maximum: 20 })),
    require_distinct_roles: Type.Optional(Type.Boolean()),
  }),
  metadata: Type.Optional(JsonObject),
  agent_key_id: Type.Optional(KeyId),
});

export const WarningSchema = Type.Object({
  code: Type.String({
    description:
      "role_unmapped | role_off_shift | all_off_shift | quorum_exceeds_eligible | quorum_exceeds_on_shift | distinct_roles_unreachable | fallback_routing | conflicts_excluded",
  }),
  message: Type.String(),
  role: Type.Optional(Type.String()),
});

export const AssigneeSchema = Type.Object({
  reviewer_id: Type.Union([Type.String(), Type.Null()]),
  key_id: Type.Union([Type.String(), Type.Null()]),
  name: Type.String(),
  roles: Type.Array(Type.String()),
  tier: Type.Union([Type.Literal("primary"), Type.Literal("fallback"), Type.Literal("admins")]),
  reason: Type.String(),
});

const Capacity = Type.Array(
  Type.Object({
    role: Type.String({ description: "a required role, or * when none is required" }),
    reviewers: Type.Array(Type.Object({ id: Type.String(), name: Type.String() })),
    count: Type.Integer(),
  }),
);

export const ControlMapResource = Type.Object(
  {
    satisfiable: Type.Boolean({
      description: "a request created now would be routed (not flagged unroutable)",
    }),
    required_roles: Type.Array(Type.String()),
    required_approvals: Type.Integer(),
    require_distinct_roles: Type.Boolean(),
    on_shift_capacity: Capacity,
    fallback_reviewers: Capacity,
    would_route_to: Type.Array(AssigneeSchema),
    next_shift_change: Type.Union([Timestamp, Type.Null()]),
    warnings: Type.Array(WarningSchema),
  },
  { description: "What routing would do for these requirements right now" },
);
