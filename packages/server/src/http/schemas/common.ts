import { type TSchema, Type } from "typebox";

/** Objects refuse unknown fields everywhere, so a typo never silently changes meaning. */
export function Strict<T extends Record<string, TSchema>>(
  properties: T,
  options: { description?: string } = {},
) {
  return Type.Object(properties, { additionalProperties: false, ...options });
}

export const Identifier = (description: string, maxLength = 200) =>
  Type.String({ minLength: 1, maxLength, pattern: "^[^\\u0000-\\u001f]+$", description });

export const RoleName = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: "^[A-Za-z0-9][A-Za-z0-9_.:-]*$",
  description: "a reviewer role such as 'finance' or 'sre'",
});

export const ToolName = Type.String({
  minLength: 1,
  maxLength: 200,
  pattern: "^[A-Za-z0-9_][A-Za-z0-9_.:/-]*$",
  description: "the tool the agent wants to call, e.g. 'email.send'",
});

export const Timestamp = Type.String({ format: "date-time" });

export const JsonObject = Type.Record(Type.String(), Type.Unknown(), { description: "any JSON object" });

export const Principal = Strict({
  key_id: Type.String(),
  name: Type.String(),
  role: Type.Union([Type.Literal("admin"), Type.Literal("agent"), Type.Literal("reviewer")]),
});

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
    retryable: Type.Boolean(),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
    request_id: Type.String(),
  },
  { description: "RFC 9457 problem details (application/problem+json)" },
);

const PROBLEM_STATUSES = [400, 401, 403, 404, 409, 413, 415, 429, 500, 503] as const;

/**
 * Response schemas document the API in /openapi.json. They are typed loosely on purpose: responses
 * are serialised as-is (see app.ts), so the schemas describe the resources rather than constrain the
 * handlers' return types.
 */
export function responses(ok: Record<number, TSchema>): Record<number, unknown> {
  const out: Record<number, unknown> = { ...ok };
  for (const status of PROBLEM_STATUSES) out[status] = ProblemSchema;
  return out;
}

export const IdParams = Strict({ id: Identifier("resource id", 100) });
