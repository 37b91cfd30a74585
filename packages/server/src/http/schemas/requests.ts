import { Type } from "typebox";
import { Identifier, JsonObject, Principal, RoleName, Strict, Timestamp, ToolName } from "./common.ts";
import { AssigneeSchema, WarningSchema } from "./reviewers.ts";

const RequestType = Type.Union([Type.Literal("approval"), Type.Literal("decision"), Type.Literal("input")]);
const Priority = Type.Union([
  Type.Literal("low"),
  Type.Literal("normal"),
  Type.Literal("high"),
  Type.Literal("urgent"),
]);
const Status = Type.Union([
  Type.Literal("pending"),
  Type.Literal("approved"),
  Type.Literal("rejected"),
  Type.Literal("answered"),
  Type.Literal("cancelled"),
  Type.Literal("timed_out"),
]);

export const OptionSchema = Strict({
  name: Identifier("option name returned in response.option", 100),
  title: Type.Optional(Type.String({ maxLength: 200 })),
  description: Type.Optional(Type.String({ maxLength: 2000 })),
});

export const SourceSchema = Strict({
  integration: Identifier("integration that created the request, e.g. 'openai-agents'", 100),
  run_id: Type.Optional(Identifier("the agent run or session id", 200)),
  workflow_id: Type.Optional(Identifier("workflow id", 200)),
});

export const ClaimedActorSchema = Strict({
  agent_id: Type.Optional(Identifier("agent id as claimed by the caller", 200)),
  agent_name: Type.Optional(Type.String({ maxLength: 200 })),
});

export const CreateRequestBody = Strict({
  type: Type.Optional(RequestType),
  question: Type.Optional(Type.String({ minLength: 1, maxLength: 4000 })),
  title: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
  context: Type.Optional(
    Type.Union([Type.String({ maxLength: 100_000 }), JsonObject], {
      description: "shown to reviewers as text or pretty JSON",
    }),
  ),
  options: Type.Optional(Type.Array(OptionSchema, { minItems: 1, maxItems: 20 })),
  required_role: Type.Optional(RoleName),
  required_roles: Type.Optional(Type.Array(RoleName, { maxItems: 20 })),
  required_approvals: Type.Optional(Type.Integer({ minimum: 1, maximum: 20 })),
  require_distinct_roles: Type.Optional(
    Type.Boolean({ description: "approvals must come from different required roles (one per role)" }),
  ),
  priority: Type.Optional(Priority),
  ttl_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 30 * 24 * 3600 })),
  escalate_after_seconds: Type.Optional(
    Type.Union([Type.Integer({ minimum: 1, maximum: 30 * 24 * 3600 }), Type.Null()], {
      description:
        "escalate to the next tier (fallback reviewers, then admins) after this long pending; null: never; default by priority (urgent 180, high 600, normal 1800, low never)",
    }),
  ),
  external_request_id: Type.Optional(Identifier("idempotency key, unique per agent key")),
  correlation_id: Type.Optional(Identifier("groups requests, calls and actions into one case")),
  metadata: Type.Optional(JsonObject),
  callback_url: Type.Optional(Type.String({ format: "uri", maxLength: 2048, pattern: "^https?://" })),
  source: Type.Optional(SourceSchema),
  actor: Type.Optional(ClaimedActorSchema),
  trace_id: Type.Optional(Identifier("trace id")),
  parent_trace_id: Type.Optional(Identifier("parent trace id")),
  tool_calls: Type.Optional(Type.Array(Type.Unknown(), { maxItems: 1000 })),
  retrieved_context: Type.Optional(Type.Unknown()),
  tool: Type.Optional(
    Strict({
      name: ToolName,
      args: Type.Optional(
        Type.Unknown({ description: "the arguments under review; hashed as RFC 8785 JSON" }),
      ),
    }),
  ),
});

export const RespondBody = Strict({
  approved: Type.Optional(Type.Boolean()),
  option: Type.Optional(Identifier("chosen option name (decision requests)", 100)),
  answer: Type.Optional(Type.String({ minLength: 1, maxLength: 20_000 })),
  comment: Type.Optional(Type.String({ maxLength: 4000 })),
  modified_args: Type.Optional(
    Type.Unknown({ description: "edited tool arguments, approved instead of the proposed" }),
  ),
});

export const CancelBody = Type.Union([
  Strict({ reason: Type.Optional(Type.String({ maxLength: 2000 })) }),
  Type.Null(),
]);

export const ListRequestsQuery = Strict({
  status: Type.Optional(Status),
  correlation_id: Type.Optional(Identifier("case id")),
  role: Type.Optional(RoleName),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(Identifier("next_cursor from the previous page", 100)),
});

export const WaitQuery = Strict({
  timeout_seconds: Type.Optional(Type.Number({ minimum: 0, maximum: 60, default: 30 })),
});

const ReviewSchema = Type.Object({
  id: Type.String(),
  request_id: Type.String(),
  reviewer: Principal,
  reviewer_id: Type.Union([Type.String(), Type.Null()], { description: "the reviewer record (person)" }),
  reviewer_name: Type.Union([Type.String(), Type.Null()], { description: "the person's name" }),
  roles: Type.Array(Type.String(), { description: "required roles the reviewer decided for" }),
  override: Type.Boolean({ description: "an admin decided without being an eligible reviewer" }),
  decision: Type.Union([
    Type.Literal("approve"),
    Type.Literal("reject"),
    Type.Literal("answer"),
    Type.Literal("choose"),
  ]),
  approved: Type.Boolean(),
  option: Type.Union([Type.String(), Type.Null()]),
  answer: Type.Union([Type.String(), Type.Null()]),
  comment: Type.Union([Type.String(), Type.Null()]),
  modified_args: Type.Unknown({ description: "the edited arguments sent with an approval, else null" }),
  modified_args_hash: Type.Union([Type.String(), Type.Null()]),
  approved_args_hash: Type.Optional(
    Type.Union([Type.String(), Type.Null()], {
      description:
        "the arguments this approval approved and counts for: the edit's hash, else the proposed tool.args_hash; null for rejections and requests without a tool (absent on reviews recorded before it existed)",
    }),
  ),
  channel: Type.String(),
  created_at: Timestamp,
});

const QuorumSchema = Type.Object(
  {
    required: Type.Integer(),
    approvals: Type.Integer({ description: "distinct eligible people who approved" }),
    remaining: Type.Integer(),
    distinct_roles: Type.Boolean(),
    approvers: Type.Array(
      Type.Object({
        key_id: Type.String(),
        reviewer_id: Type.Union([Type.String(), Type.Null()]),
        name: Type.String(),
        role: Type.Union([Type.String(), Type.Null()]),
        override: Type.Boolean(),
      }),
    ),
    missing_roles: Type.Array(Type.String()),
    summary: Type.String({ description: "k of N" }),
  },
  { description: "progress towards the quorum" },
);

const PendingEditSchema = Type.Object(
  {
    args: Type.Unknown({
      description: "the edited arguments, as the first approver to propose them sent them",
    }),
    args_hash: Type.String({ description: "sha256: hash of their RFC 8785 form" }),
    quorum: Type.Intersect([QuorumSchema], {
      description: "progress towards the quorum for exactly these arguments; approvers approved them",
    }),
  },
  {
    description:
      "edited arguments approvers approved instead of the proposed ones; approve one by sending the same modified_args",
  },
);

const RoutingSchema = Type.Object({
  state: Type.Union([Type.Literal("open"), Type.Literal("routed"), Type.Literal("unroutable")], {
    description:
      "open: no required roles, any reviewer may decide; routed: the assignees can satisfy the quorum; unroutable: they cannot (see warnings)",
  }),
  tier: Type.Union([Type.Literal("primary"), Type.Literal("fallback"), Type.Literal("admins"), Type.Null()]),
  assignees: Type.Array(AssigneeSchema),
  warnings: Type.Array(WarningSchema),
  routed_at: Timestamp,
  escalate_after_seconds: Type.Union([Type.Integer(), Type.Null()]),
  next_escalation_at: Type.Union([Timestamp, Type.Null()]),
  escalations: Type.Integer(),
  escalated_at: Type.Union([Timestamp, Type.Null()]),
});

export const RequestResource = Type.Object(
  {
    id: Type.String({ description: "req_…" }),
    type: RequestType,
    status: Status,
    question: Type.Union([Type.String(), Type.Null()]),
    title: Type.Union([Type.String(), Type.Null()]),
    context: Type.Unknown(),
    options: Type.Union([Type.Array(OptionSchema), Type.Null()]),
    required_roles: Type.Array(Type.String()),
    required_approvals: Type.Integer(),
    require_distinct_roles: Type.Boolean(),
    priority: Priority,
    ttl_seconds: Type.Union([Type.Integer(), Type.Null()]),
    expires_at: Type.Union([Timestamp, Type.Null()]),
    escalate_after_seconds: Type.Union([Type.Integer(), Type.Null()]),
    external_request_id: Type.Union([Type.String(), Type.Null()]),
    correlation_id: Type.String(),
    metadata: Type.Union([JsonObject, Type.Null()]),
    callback_url: Type.Union([Type.String(), Type.Null()]),
    source: Type.Union([SourceSchema, Type.Null()]),
    actor: Type.Union([ClaimedActorSchema, Type.Null()], { description: "identity claimed in the body" }),
    created_by: Type.Intersect([Principal], { description: "verified identity: the key that created it" }),
    trace_id: Type.Union([Type.String(), Type.Null()]),
    parent_trace_id: Type.Union([Type.String(), Type.Null()]),
    tool_calls: Type.Union([Type.Array(Type.Unknown()), Type.Null()]),
    retrieved_context: Type.Unknown(),
    tool: Type.Union([
      Type.Object({ name: Type.String(), args: Type.Unknown(), args_hash: Type.String() }),
      Type.Null(),
    ]),
    body_hash: Type.String(),
    quorum: Type.Intersect([QuorumSchema], {
      description:
        "progress towards the quorum for the proposed arguments (for requests without a tool: all approvals); once approved, for the arguments that were approved",
    }),
    pending_edits: Type.Array(PendingEditSchema, {
      description:
        "edits approvers proposed, each with its own quorum progress: approvals of different arguments never add up; kept as they stood once decided",
    }),
    routing: Type.Union([RoutingSchema, Type.Null()], {
      description: "who the request was routed to and why; null for requests created before routing existed",
    }),
    response: Type.Union([
      Type.Object({
        approved: Type.Boolean(),
        option: Type.Union([Type.String(), Type.Null()]),
        answer: Type.Union([Type.String(), Type.Null()]),
        comment: Type.Union([Type.String(), Type.Null()]),
        modified_args: Type.Unknown(),
        reviews: Type.Array(ReviewSchema),
        decided_at: Timestamp,
      }),
      Type.Null(),
    ]),
    cancellation: Type.Union([
      Type.Object({
        reason: Type.Union([Type.String(), Type.Null()]),
        by: Type.Union([Principal, Type.Null()]),
      }),
      Type.Null(),
    ]),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { description: "An approval request" },
);

export const RequestList = Type.Object({
  data: Type.Array(RequestResource),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});
