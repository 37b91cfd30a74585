import { quorumProgress, requestRouting } from "./reviewers.ts";
import type {
  Action,
  ApiKey,
  ApprovalRequest,
  AuditActor,
  AuditEntry,
  AuditPage,
  AuditVerification,
  Case,
  ClaimedActor,
  CreatedKey,
  PendingEdit,
  Principal,
  RequestOption,
  RequestPage,
  RequestQuorum,
  RequestResponse,
  RequestSource,
  Review,
  ToolCall,
} from "./types.ts";
import { REQUEST_STATUSES } from "./types.ts";
import {
  anything,
  arrayOf,
  bool,
  field,
  int,
  nullable,
  obj,
  oneOf,
  optional,
  type Parser,
  str,
  timestamp,
} from "./validate.ts";

/*
 * Parsers for every resource the API returns, checked field by field against the server's response
 * schemas (packages/server/src/http/schemas). Each result starts from the received object so fields
 * a newer server adds survive, then overwrites the known ones with their checked, typed values.
 */

const role = oneOf(["admin", "agent", "reviewer"]);
const severity = oneOf(["debug", "info", "notice", "warning", "error", "critical"]);

/** Copies `key` only when present, so optional fields stay absent rather than becoming `undefined`. */
export function copyOptional<T>(
  target: Record<string, unknown>,
  record: Record<string, unknown>,
  key: string,
  parse: Parser<T>,
  path: string,
): void {
  const value = field(record, key, optional(parse), path);
  if (value !== undefined) target[key] = value;
}

export const principal: Parser<Principal> = (value, path) => {
  const o = obj(value, path);
  return {
    ...o,
    key_id: field(o, "key_id", str, path),
    name: field(o, "name", str, path),
    role: field(o, "role", role, path),
  };
};

const option: Parser<RequestOption> = (value, path) => {
  const o = obj(value, path);
  const out: Record<string, unknown> = { ...o, name: field(o, "name", str, path) };
  copyOptional(out, o, "title", str, path);
  copyOptional(out, o, "description", str, path);
  return out as unknown as RequestOption;
};

const source: Parser<RequestSource> = (value, path) => {
  const o = obj(value, path);
  const out: Record<string, unknown> = { ...o, integration: field(o, "integration", str, path) };
  copyOptional(out, o, "run_id", str, path);
  copyOptional(out, o, "workflow_id", str, path);
  return out as unknown as RequestSource;
};

const claimedActor: Parser<ClaimedActor> = (value, path) => {
  const o = obj(value, path);
  const out: Record<string, unknown> = { ...o };
  copyOptional(out, o, "agent_id", str, path);
  copyOptional(out, o, "agent_name", str, path);
  return out as ClaimedActor;
};

const toolCall: Parser<ToolCall> = (value, path) => {
  const o = obj(value, path);
  return {
    ...o,
    name: field(o, "name", str, path),
    args: field(o, "args", anything, path),
    args_hash: field(o, "args_hash", str, path),
  };
};

export const review: Parser<Review> = (value, path) => {
  const o = obj(value, path);
  const out: Review = {
    ...o,
    id: field(o, "id", str, path),
    request_id: field(o, "request_id", str, path),
    reviewer: field(o, "reviewer", principal, path),
    decision: field(o, "decision", oneOf(["approve", "reject", "answer", "choose"]), path),
    approved: field(o, "approved", bool, path),
    option: field(o, "option", nullable(str), path),
    answer: field(o, "answer", nullable(str), path),
    comment: field(o, "comment", nullable(str), path),
    modified_args: field(o, "modified_args", anything, path),
    modified_args_hash: field(o, "modified_args_hash", nullable(str), path),
    channel: field(o, "channel", str, path),
    created_at: field(o, "created_at", timestamp, path),
  };
  copyOptional(out as unknown as Record<string, unknown>, o, "approved_args_hash", nullable(str), path);
  return out;
};

const response: Parser<RequestResponse> = (value, path) => {
  const o = obj(value, path);
  return {
    ...o,
    approved: field(o, "approved", bool, path),
    option: field(o, "option", nullable(str), path),
    answer: field(o, "answer", nullable(str), path),
    comment: field(o, "comment", nullable(str), path),
    modified_args: field(o, "modified_args", anything, path),
    reviews: field(o, "reviews", arrayOf(review), path),
    decided_at: field(o, "decided_at", timestamp, path),
  };
};

const cancellation: Parser<NonNullable<ApprovalRequest["cancellation"]>> = (value, path) => {
  const o = obj(value, path);
  return {
    ...o,
    reason: field(o, "reason", nullable(str), path),
    by: field(o, "by", nullable(principal), path),
  };
};

const quorum: Parser<{ required: number; approvals: number }> = (value, path) => {
  const o = obj(value, path);
  return { ...o, required: field(o, "required", int, path), approvals: field(o, "approvals", int, path) };
};

/** The full progress when the server reports it (servers with routing say `summary`), else the two counts. */
const requestQuorum: Parser<RequestQuorum> = (value, path) => {
  const o = obj(value, path);
  return o.summary === undefined ? quorum(o, path) : quorumProgress(o, path);
};

const pendingEdit: Parser<PendingEdit> = (value, path) => {
  const o = obj(value, path);
  return {
    ...o,
    args: field(o, "args", anything, path),
    args_hash: field(o, "args_hash", str, path),
    quorum: field(o, "quorum", quorum, path),
  };
};

export const approvalRequest: Parser<ApprovalRequest> = (value, path) => {
  const o = obj(value, path);
  const request: ApprovalRequest = {
    ...o,
    id: field(o, "id", str, path),
    type: field(o, "type", oneOf(["approval", "decision", "input"]), path),
    status: field(o, "status", oneOf(REQUEST_STATUSES), path),
    question: field(o, "question", nullable(str), path),
    title: field(o, "title", nullable(str), path),
    context: field(o, "context", anything, path),
    options: field(o, "options", nullable(arrayOf(option)), path),
    required_roles: field(o, "required_roles", arrayOf(str), path),
    required_approvals: field(o, "required_approvals", int, path),
    priority: field(o, "priority", oneOf(["low", "normal", "high", "urgent"]), path),
    ttl_seconds: field(o, "ttl_seconds", nullable(int), path),
    expires_at: field(o, "expires_at", nullable(timestamp), path),
    external_request_id: field(o, "external_request_id", nullable(str), path),
    correlation_id: field(o, "correlation_id", str, path),
    metadata: field(o, "metadata", nullable(obj), path),
    callback_url: field(o, "callback_url", nullable(str), path),
    source: field(o, "source", nullable(source), path),
    actor: field(o, "actor", nullable(claimedActor), path),
    created_by: field(o, "created_by", principal, path),
    trace_id: field(o, "trace_id", nullable(str), path),
    parent_trace_id: field(o, "parent_trace_id", nullable(str), path),
    tool_calls: field(o, "tool_calls", nullable(arrayOf(anything)), path),
    retrieved_context: field(o, "retrieved_context", anything, path),
    tool: field(o, "tool", nullable(toolCall), path),
    body_hash: field(o, "body_hash", str, path),
    quorum: field(o, "quorum", requestQuorum, path),
    response: field(o, "response", nullable(response), path),
    cancellation: field(o, "cancellation", nullable(cancellation), path),
    created_at: field(o, "created_at", timestamp, path),
    updated_at: field(o, "updated_at", timestamp, path),
  };
  const token = field(o, "approval_token", optional(nullable(str)), path);
  if (token !== undefined) request.approval_token = token;
  const edits = field(o, "pending_edits", optional(arrayOf(pendingEdit)), path);
  if (edits !== undefined) request.pending_edits = edits;
  const routing = field(o, "routing", optional(nullable(requestRouting)), path);
  if (routing !== undefined) request.routing = routing;
  const distinct = field(o, "require_distinct_roles", optional(bool), path);
  if (distinct !== undefined) request.require_distinct_roles = distinct;
  const escalateAfter = field(o, "escalate_after_seconds", optional(nullable(int)), path);
  if (escalateAfter !== undefined) request.escalate_after_seconds = escalateAfter;
  return request;
};

const inReplyTo: Parser<{ type: string; id: string }> = (value, path) => {
  const o = obj(value, path);
  return { ...o, type: field(o, "type", str, path), id: field(o, "id", str, path) };
};

export const action: Parser<Action> = (value, path) => {
  const o = obj(value, path);
  return {
    ...o,
    id: field(o, "id", str, path),
    action: field(o, "action", str, path),
    summary: field(o, "summary", str, path),
    source: field(o, "source", nullable(source), path),
    outcome: field(o, "outcome", nullable(str), path),
    severity: field(o, "severity", severity, path),
    correlation_id: field(o, "correlation_id", str, path),
    in_reply_to: field(o, "in_reply_to", nullable(inReplyTo), path),
    trace_id: field(o, "trace_id", nullable(str), path),
    metadata: field(o, "metadata", nullable(obj), path),
    created_by: field(o, "created_by", principal, path),
    created_at: field(o, "created_at", timestamp, path),
  };
};

const auditActor: Parser<AuditActor> = (value, path) => {
  const o = obj(value, path);
  const out: Record<string, unknown> = { ...o, type: field(o, "type", str, path) };
  for (const key of ["key_id", "name", "role"]) copyOptional(out, o, key, str, path);
  return out as unknown as AuditActor;
};

export const auditEntry: Parser<AuditEntry> = (value, path) => {
  const o = obj(value, path);
  return {
    ...o,
    seq: field(o, "seq", int, path),
    at: field(o, "at", timestamp, path),
    at_text: field(o, "at", str, path),
    kind: field(o, "kind", str, path),
    subject_id: field(o, "subject_id", str, path),
    correlation_id: field(o, "correlation_id", nullable(str), path),
    actor: field(o, "actor", auditActor, path),
    data: field(o, "data", obj, path),
    prev_hash: field(o, "prev_hash", str, path),
    hash: field(o, "hash", str, path),
  };
};

export const requestPage: Parser<RequestPage> = (value, path) => {
  const o = obj(value, path);
  return {
    data: field(o, "data", arrayOf(approvalRequest), path),
    next_cursor: field(o, "next_cursor", nullable(str), path),
  };
};

export const auditPage: Parser<AuditPage> = (value, path) => {
  const o = obj(value, path);
  return {
    data: field(o, "data", arrayOf(auditEntry), path),
    next_after_seq: field(o, "next_after_seq", nullable(int), path),
  };
};

export const caseView: Parser<Case> = (value, path) => {
  const o = obj(value, path);
  return {
    ...o,
    correlation_id: field(o, "correlation_id", str, path),
    requests: field(o, "requests", arrayOf(approvalRequest), path),
    actions: field(o, "actions", arrayOf(action), path),
    timeline: field(o, "timeline", arrayOf(auditEntry), path),
  };
};

export const auditVerification: Parser<AuditVerification> = (value, path) => {
  const o = obj(value, path);
  const entries = field(o, "entries", int, path);
  if (field(o, "ok", bool, path)) {
    return { ok: true, entries, head_hash: field(o, "head_hash", str, path) };
  }
  return {
    ok: false,
    entries,
    first_broken_seq: field(o, "first_broken_seq", int, path),
    reason: field(o, "reason", str, path),
  };
};

export const apiKey: Parser<ApiKey> = (value, path) => {
  const o = obj(value, path);
  return {
    ...o,
    id: field(o, "id", str, path),
    name: field(o, "name", str, path),
    role: field(o, "role", role, path),
    hint: field(o, "hint", str, path),
    created_at: field(o, "created_at", timestamp, path),
    created_by: field(o, "created_by", nullable(str), path),
    revoked_at: field(o, "revoked_at", nullable(timestamp), path),
  };
};

export const createdKey: Parser<CreatedKey> = (value, path) => {
  const o = obj(value, path);
  return { key: field(o, "key", apiKey, path), secret: field(o, "secret", str, path) };
};

export const keyList: Parser<ApiKey[]> = (value, path) =>
  field(obj(value, path), "data", arrayOf(apiKey), path);
