import { Type } from "typebox";
import { Identifier, JsonObject, RoleName, Strict, ToolName } from "./common.ts";
import { SourceSchema } from "./requests.ts";

export const GovernBody = Strict({
  run_id: Identifier("the agent's run or session id; budgets and kill switches apply per run"),
  call_id: Type.Optional(Identifier("the tool call's id; the same (agent, run, call) gets the same answer")),
  tool: ToolName,
  args: Type.Optional(Type.Unknown({ description: "the tool arguments; hashed as RFC 8785 JSON" })),
  agent_id: Type.Optional(Identifier("agent id as claimed by the caller (recorded, not trusted)")),
  context: Type.Optional(Type.Unknown()),
  cost_usd: Type.Optional(Type.Number({ minimum: 0, maximum: 1e9 })),
  steps: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
  environment: Type.Optional(Identifier("e.g. production", 100)),
  correlation_id: Type.Optional(Identifier("case id (defaults to run_id)")),
  trace_id: Type.Optional(Identifier("trace id")),
  parent_trace_id: Type.Optional(Identifier("parent trace id")),
  question: Type.Optional(Type.String({ minLength: 1, maxLength: 4000 })),
  callback_url: Type.Optional(Type.String({ format: "uri", maxLength: 2048, pattern: "^https?://" })),
  metadata: Type.Optional(JsonObject),
  tool_calls: Type.Optional(Type.Array(Type.Unknown(), { maxItems: 1000 })),
  retrieved_context: Type.Optional(Type.Unknown()),
  source: Type.Optional(SourceSchema),
});

export const GovernResultSchema = Type.Object(
  {
    id: Type.String({ description: "gov_…" }),
    decision: Type.Union([Type.Literal("allow"), Type.Literal("deny"), Type.Literal("approval_required")]),
    reason: Type.String(),
    rule_id: Type.String(),
    policy_version: Type.String(),
    risk: Type.Union([Type.String(), Type.Null()]),
    stop_reason: Type.Union([Type.String(), Type.Null()]),
    request_id: Type.Union([Type.String(), Type.Null()]),
    request_status: Type.Union([Type.String(), Type.Null()]),
    approval_token: Type.Union([Type.String(), Type.Null()]),
    approved_args: Type.Unknown(),
    review_comment: Type.Union([Type.String(), Type.Null()]),
    grant_id: Type.Union([Type.String(), Type.Null()]),
    run_id: Type.String(),
    call_id: Type.Union([Type.String(), Type.Null()]),
    correlation_id: Type.String(),
    tool: Type.String(),
    args_hash: Type.String(),
    budgets: Type.Union([
      Type.Object({
        limits: Type.Record(Type.String(), Type.Union([Type.Number(), Type.Null()])),
        usage: Type.Record(Type.String(), Type.Number()),
        remaining: Type.Record(Type.String(), Type.Number()),
        exceeded: Type.Array(Type.String()),
        extensions: Type.Integer(),
      }),
      Type.Null(),
    ]),
    replayed: Type.Boolean(),
    created_at: Type.String({ format: "date-time" }),
  },
  { description: "A governance decision" },
);

export const PutPolicyBody = Strict({ source: Type.String({ minLength: 1, maxLength: 1_000_000 }) });

export const KillSwitchBody = Strict({
  engaged: Type.Boolean({ description: "true engages a switch, false releases the one named by id" }),
  id: Type.Optional(Identifier("kill switch id (to release)", 100)),
  scope: Type.Optional(Type.Union([Type.Literal("global"), Type.Literal("agent"), Type.Literal("run")])),
  agent: Type.Optional(Identifier("agent key id or name", 200)),
  run_id: Type.Optional(Identifier("run id")),
  reason: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
});

export const GrantBody = Strict({
  agent: Type.Optional(Identifier("agent key id (not its name: names are not unique)", 200)),
  run_id: Type.Optional(Identifier("run id")),
  tool: Type.String({ minLength: 1, maxLength: 256, description: "tool glob, e.g. email.* " }),
  conditions: Type.Optional(Type.Unknown({ description: "argument condition in the policy language" })),
  reason: Type.Optional(Type.String({ maxLength: 2000 })),
  expires_at: Type.Optional(Type.String({ format: "date-time" })),
  ttl_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 30 * 24 * 3600 })),
  max_uses: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
});

export const IncludeInactiveQuery = Strict({
  include_inactive: Type.Optional(Type.Boolean({ default: false })),
});

export const RequiredRoles = Type.Array(RoleName);
