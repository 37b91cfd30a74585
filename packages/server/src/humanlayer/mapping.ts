import {
  type ApprovalRequest,
  type NewRequestInput,
  type RequestOption,
  type RespondInput,
  ValidationError,
} from "@countersign/core";
import type {
  FunctionCallInput,
  FunctionCallStatusInput,
  HumanContactInput,
  HumanContactStatusInput,
  ResponseOption,
} from "./schemas.ts";

/*
 * HumanLayer's resources as Countersign requests, and back.
 *
 * - A function call is an `approval` request for the tool `{name: fn, args: kwargs}`. With
 *   `reject_options` it becomes a `decision` between `approve` and those options, so a reviewer
 *   can reject with one of them (Countersign's options belong to decision requests).
 * - A contact request is an `input` request (the reviewer's answer is the human's response); with
 *   two or more `response_options` it is a `decision` between them.
 * - The HumanLayer run id is the correlation id (one case per run); the call id is kept as the
 *   external request id, which makes creation idempotent and the call findable by its id.
 * - The spec is kept verbatim in `metadata.humanlayer`, so it reads back exactly as sent.
 */

export type Kind = "function_call" | "human_contact";

export const APPROVE_OPTION = "approve";
const INTEGRATION = "humanlayer";
const QUESTION_LIMIT = 4000;

export function externalId(kind: Kind, callId: string): string {
  return `humanlayer:${kind}:${callId}`;
}

interface Stored {
  kind: Kind;
  run_id: string;
  call_id: string;
  spec: Record<string, unknown>;
}

export function functionCallRequest(body: FunctionCallInput): NewRequestInput {
  const { fn } = body.spec;
  const rejectOptions = body.spec.reject_options ?? [];
  if (rejectOptions.some((o) => o.name === APPROVE_OPTION)) {
    throw new ValidationError(`reject option name ${JSON.stringify(APPROVE_OPTION)} is reserved`, [
      { path: "/spec/reject_options", message: `"${APPROVE_OPTION}" is the approving choice` },
    ]);
  }
  return {
    ...(rejectOptions.length > 0
      ? {
          type: "decision",
          options: [{ name: APPROVE_OPTION, title: "Approve" }, ...rejectOptions.map(option)],
        }
      : { type: "approval" }),
    question: `Allow the agent to call ${fn}?`,
    tool: { name: fn, args: body.spec.kwargs ?? {} },
    ...common("function_call", body),
  };
}

export function humanContactRequest(body: HumanContactInput): NewRequestInput {
  const { msg, subject } = body.spec;
  const responseOptions = body.spec.response_options ?? [];
  const long = msg.length > QUESTION_LIMIT;
  return {
    ...(responseOptions.length >= 2
      ? { type: "decision", options: responseOptions.map(option) }
      : { type: "input" }),
    question: long ? `${msg.slice(0, QUESTION_LIMIT - 1)}…` : msg,
    // A message too long for the question is shown whole as the context.
    ...(long ? { context: msg } : {}),
    ...(subject ? { title: subject } : {}),
    ...common("human_contact", body),
  };
}

function common(kind: Kind, body: FunctionCallInput | HumanContactInput): NewRequestInput {
  const stored: Stored = { kind, run_id: body.run_id, call_id: body.call_id, spec: body.spec };
  return {
    external_request_id: externalId(kind, body.call_id),
    correlation_id: body.run_id,
    source: { integration: INTEGRATION, run_id: body.run_id },
    metadata: { humanlayer: stored },
  };
}

function option(o: ResponseOption): RequestOption {
  return {
    name: o.name,
    ...(o.title ? { title: o.title } : {}),
    ...(o.description ? { description: o.description } : {}),
  };
}

function stored(request: ApprovalRequest, kind: Kind): Stored {
  const value = (request.metadata?.humanlayer ?? null) as Stored | null;
  if (value && value.kind === kind) return value;
  // A request made another way under a HumanLayer id: describe it from its own fields.
  return {
    kind,
    run_id: request.correlation_id,
    call_id: request.external_request_id?.split(":").slice(2).join(":") ?? request.id,
    spec:
      kind === "function_call"
        ? { fn: request.tool?.name ?? "unknown", kwargs: request.tool?.args ?? {} }
        : { msg: request.question ?? request.title ?? "" },
  };
}

/** The Countersign side of a HumanLayer resource, for callers who want to look it up there. */
function countersign(request: ApprovalRequest) {
  return { request_id: request.id, status: request.status };
}

const TIMED_OUT = "Countersign: nobody decided before the request timed out (it was not rejected)";
const cancelled = (request: ApprovalRequest) =>
  `Countersign: the request was cancelled${request.cancellation?.reason ? `: ${request.cancellation.reason}` : ""}`;

export function functionCallView(request: ApprovalRequest) {
  const s = stored(request, "function_call");
  const decided = request.response;
  const base = {
    requested_at: request.created_at,
    responded_at: decided?.decided_at ?? null,
    approved: null as boolean | null,
    comment: decided?.comment ?? null,
    reject_option_name: null as string | null,
  };
  switch (request.status) {
    case "approved":
      base.approved = true;
      break;
    case "answered": {
      const choice = decided?.option ?? null;
      base.approved = choice === APPROVE_OPTION;
      if (choice !== APPROVE_OPTION) base.reject_option_name = choice;
      break;
    }
    case "rejected":
      base.approved = false;
      break;
    // HumanLayer has no "timed out" or "cancelled": the call is not approved, and the comment says
    // why, so the agent is not left polling for ever. Neither is reported as anyone's rejection.
    case "timed_out":
      base.approved = false;
      base.comment = TIMED_OUT;
      base.responded_at = request.updated_at;
      break;
    case "cancelled":
      base.approved = false;
      base.comment = cancelled(request);
      base.responded_at = request.updated_at;
      break;
  }
  return {
    run_id: s.run_id,
    call_id: s.call_id,
    spec: s.spec,
    status: base,
    countersign: countersign(request),
  };
}

export function humanContactView(request: ApprovalRequest) {
  const s = stored(request, "human_contact");
  const decided = request.response;
  let response: string | null = null;
  let optionName: string | null = null;
  switch (request.status) {
    case "answered":
      if (decided?.option) {
        optionName = decided.option;
        const chosen = request.options?.find((o) => o.name === decided.option);
        response = decided.comment ?? chosen?.title ?? decided.option;
      } else {
        response = decided?.answer ?? null;
      }
      break;
    case "rejected":
      response = decided?.comment ?? "Countersign: the reviewer declined to answer";
      break;
    case "timed_out":
      response = TIMED_OUT;
      break;
    case "cancelled":
      response = cancelled(request);
      break;
  }
  const terminal = request.status !== "pending";
  return {
    run_id: s.run_id,
    call_id: s.call_id,
    spec: s.spec,
    status: {
      requested_at: request.created_at,
      responded_at: terminal ? (decided?.decided_at ?? request.updated_at) : null,
      response,
      response_option_name: optionName,
    },
    countersign: countersign(request),
  };
}

/** A HumanLayer function-call response as a Countersign review. */
export function functionCallResponse(request: ApprovalRequest, body: FunctionCallStatusInput): RespondInput {
  const comment = body.comment ? { comment: body.comment } : {};
  if (request.type !== "decision") {
    if (body.reject_option_name) {
      throw new ValidationError("this function call has no reject options", [
        { path: "/reject_option_name", message: "the call was created without reject_options" },
      ]);
    }
    return { approved: body.approved, ...comment };
  }
  if (body.approved) return { option: APPROVE_OPTION, ...comment };
  return body.reject_option_name
    ? { option: body.reject_option_name, ...comment }
    : { approved: false, ...comment };
}

/** A HumanLayer contact response as a Countersign review. */
export function humanContactResponse(request: ApprovalRequest, body: HumanContactStatusInput): RespondInput {
  if (request.type === "decision") {
    if (!body.response_option_name) {
      throw new ValidationError("choose one of the contact's response options", [
        { path: "/response_option_name", message: "is required: the contact offers response options" },
      ]);
    }
    return { option: body.response_option_name, ...(body.response ? { comment: body.response } : {}) };
  }
  if (!body.response?.trim()) {
    throw new ValidationError("a response is required", [
      { path: "/response", message: "must not be empty" },
    ]);
  }
  return { answer: body.response };
}
