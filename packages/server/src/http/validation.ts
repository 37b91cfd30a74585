import { Ajv, type ErrorObject } from "ajv";
import addFormatsModule from "ajv-formats";
import type { FastifyInstance } from "fastify";

// ajv-formats is CommonJS; under Node's ESM loader its function is the default export's default.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

/**
 * Bodies are validated strictly: no type coercion (a "2" is not a 2), unknown fields are refused
 * rather than silently dropped (Fastify's default), every problem reported at once. Query strings
 * and path parameters arrive as text, so they are coerced to the declared types.
 */
export function installValidators(app: FastifyInstance): void {
  const base = { allErrors: true, removeAdditional: false, useDefaults: true, strict: false } as const;
  const bodyAjv = addFormats(new Ajv({ ...base, coerceTypes: false }));
  const textAjv = addFormats(new Ajv({ ...base, coerceTypes: true }));
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === "body" ? bodyAjv : textAjv).compile(schema as object),
  );
}

export interface FieldError {
  path: string;
  message: string;
}

export function describeAjvErrors(errors: ErrorObject[], part: string): FieldError[] {
  // Body paths are JSON pointers into the body; others are pointers under the part's name.
  const prefix = part === "body" ? "" : `/${part}`;
  return errors.map((e) => {
    const params = e.params as Record<string, unknown>;
    if (e.keyword === "additionalProperties") {
      return {
        path: `${prefix}${e.instancePath}/${String(params.additionalProperty)}`,
        message: "unknown field",
      };
    }
    if (e.keyword === "required") {
      return { path: `${prefix}${e.instancePath}/${String(params.missingProperty)}`, message: "is required" };
    }
    return { path: `${prefix}${e.instancePath}` || "/", message: e.message ?? e.keyword };
  });
}
