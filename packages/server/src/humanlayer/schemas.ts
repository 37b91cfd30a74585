import { type Static, Type } from "typebox";
import { Identifier, JsonObject, ToolName } from "../http/schemas/common.ts";

/*
 * The HumanLayer API's bodies, as `@humanlayer/sdk` (TypeScript) and `humanlayer` (Python) send
 * them. The contract is HumanLayer's, not ours: objects accept fields Countersign does not use
 * (the Python client sends more, and newer clients may add some), and optional fields may be null
 * (pydantic dumps unset fields as null). What Countersign does use is checked strictly.
 */

const Loose = { additionalProperties: true } as const;
const Nullable = <T extends Parameters<typeof Type.Optional>[0]>(schema: T) =>
  Type.Optional(Type.Union([schema, Type.Null()]));

export const CallIdParams = Type.Object(
  { call_id: Identifier("the HumanLayer call_id the agent chose", 150) },
  { additionalProperties: false },
);

export const ResponseOptionSchema = Type.Object(
  {
    name: Identifier("option name", 100),
    title: Nullable(Type.String({ maxLength: 200 })),
    description: Nullable(Type.String({ maxLength: 2000 })),
    prompt_fill: Nullable(Type.String({ maxLength: 4000 })),
    interactive: Nullable(Type.Boolean()),
  },
  Loose,
);

const Channel = Nullable(JsonObject);
const State = Nullable(JsonObject);

export const FunctionCallBody = Type.Object(
  {
    run_id: Identifier("the agent run; becomes the request's correlation_id"),
    call_id: Identifier("idempotency key of the call", 150),
    spec: Type.Object(
      {
        fn: ToolName,
        kwargs: Type.Optional(Type.Unknown({ description: "the function's arguments" })),
        channel: Channel,
        reject_options: Nullable(Type.Array(ResponseOptionSchema, { maxItems: 19 })),
        state: State,
      },
      Loose,
    ),
    status: Type.Optional(Type.Unknown()),
  },
  Loose,
);

export const HumanContactBody = Type.Object(
  {
    run_id: Identifier("the agent run; becomes the request's correlation_id"),
    call_id: Identifier("idempotency key of the contact", 150),
    spec: Type.Object(
      {
        msg: Type.String({ minLength: 1, maxLength: 100_000 }),
        subject: Nullable(Type.String({ maxLength: 500 })),
        channel: Channel,
        response_options: Nullable(Type.Array(ResponseOptionSchema, { maxItems: 20 })),
        state: State,
      },
      Loose,
    ),
    status: Type.Optional(Type.Unknown()),
  },
  Loose,
);

export const FunctionCallStatusBody = Type.Object(
  {
    approved: Type.Boolean(),
    comment: Nullable(Type.String({ maxLength: 4000 })),
    reject_option_name: Nullable(Identifier("the chosen reject option", 100)),
  },
  Loose,
);

export const HumanContactStatusBody = Type.Object(
  {
    response: Nullable(Type.String({ maxLength: 20_000 })),
    response_option_name: Nullable(Identifier("the chosen response option", 100)),
  },
  Loose,
);

export const EscalationBody = Type.Object(
  {
    escalation_msg: Type.String({ minLength: 1, maxLength: 4000 }),
    additional_recipients: Nullable(Type.Array(JsonObject, { maxItems: 50 })),
    channel: Channel,
  },
  Loose,
);

export type ResponseOption = Static<typeof ResponseOptionSchema>;
export type FunctionCallInput = Static<typeof FunctionCallBody>;
export type HumanContactInput = Static<typeof HumanContactBody>;
export type FunctionCallStatusInput = Static<typeof FunctionCallStatusBody>;
export type HumanContactStatusInput = Static<typeof HumanContactStatusBody>;
export type EscalationInput = Static<typeof EscalationBody>;
