import { DomainError } from "@countersign/core";
import type { ErrorObject } from "ajv";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { describeAjvErrors, type FieldError } from "./validation.ts";

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  retryable: boolean;
  errors?: FieldError[];
  request_id: string;
}

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Payload Too Large",
  415: "Unsupported Media Type",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

export function sendProblem(
  reply: FastifyReply,
  request: FastifyRequest,
  status: number,
  code: string,
  detail: string,
  extra: { errors?: FieldError[]; retryable?: boolean } = {},
): FastifyReply {
  const body: Problem = {
    type: `urn:countersign:problem:${code}`,
    title: TITLES[status] ?? "Error",
    status,
    detail,
    code,
    retryable: extra.retryable ?? (status === 429 || status >= 500),
    ...(extra.errors ? { errors: extra.errors } : {}),
    request_id: String(request.id),
  };
  return reply.code(status).type("application/problem+json").send(body);
}

/** Maps every error to problem+json. Bad input is always a 4xx; only our own bugs are a 500. */
export function errorHandler(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  if (error instanceof DomainError) {
    return sendProblem(reply, request, error.status, error.code, error.message, {
      ...(error.errors ? { errors: error.errors } : {}),
      retryable: error.retryable,
    });
  }
  if (error.validation) {
    const errors = describeAjvErrors(error.validation as ErrorObject[], error.validationContext ?? "body");
    const detail = errors.map((e) => `${e.path}: ${e.message}`).join("; ");
    return sendProblem(reply, request, 400, "invalid_request", detail, { errors });
  }
  switch (error.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return sendProblem(reply, request, 413, "body_too_large", "the request body exceeds the size limit");
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return sendProblem(reply, request, 415, "unsupported_media_type", "send the body as application/json");
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return sendProblem(reply, request, 400, "invalid_json", error.message);
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return sendProblem(reply, request, 400, "invalid_content_length", error.message);
  }
  if (error instanceof SyntaxError || error.statusCode === 400) {
    return sendProblem(reply, request, 400, "invalid_json", `the body is not valid JSON: ${error.message}`);
  }
  if (typeof error.statusCode === "number" && error.statusCode >= 400 && error.statusCode < 500) {
    return sendProblem(reply, request, error.statusCode, "client_error", error.message);
  }
  request.log.error({ err: error }, "unhandled error");
  return sendProblem(
    reply,
    request,
    500,
    "internal_error",
    "an unexpected error occurred; it has been logged",
  );
}
