/*
 * The resources the Countersign API returns, as this SDK hands them out: field names exactly as on
 * the wire (snake_case, so server docs, logs and the Python client read the same), with every
 * RFC 3339 timestamp turned into a `Date`. Fields a newer server adds are passed through untyped.
 *
 * Declared here rather than imported from @countersign/core: the SDK has no dependencies, and the
 * server's types carry timestamps as strings.
 */

import type { QuorumProgress, RequestRouting } from "./reviewers.ts";

export type Role = "admin" | "agent" | "reviewer";
export type RequestType = "approval" | "decision" | "input";
export type RequestStatus = "pending" | "approved" | "rejected" | "answered" | "cancelled" | "timed_out";
export type TerminalStatus = Exclude<RequestStatus, "pending">;
export type Priority = "low" | "normal" | "high" | "urgent";
export type Severity = "debug" | "info" | "notice" | "warning" | "error" | "critical";
export type ReviewDecision = "approve" | "reject" | "answer" | "choose";

export const REQUEST_STATUSES: readonly RequestStatus[] = [
  "pending",
  "approved",
  "rejected",
  "answered",
  "cancelled",
  "timed_out",
];

/** True once a request can no longer change. */
export function isTerminal(status: RequestStatus): status is TerminalStatus {
  return status !== "pending";
}

/** A verified identity: the API key a call was authenticated with. */
export interface Principal {
  key_id: string;
  name: string;
  role: Role;
}

export interface RequestOption {
  name: string;
  title?: string;
  description?: string;
}

export interface RequestSource {
  integration: string;
  run_id?: string;
  workflow_id?: string;
}

/** Identity the agent *claimed* in the body; the verified one is `created_by`. */
export interface ClaimedActor {
  agent_id?: string;
  agent_name?: string;
}

/** The tool call under review; `args_hash` is `sha256:<hex>` of the RFC 8785 form of `args`. */
export interface ToolCall {
  name: string;
  args: unknown;
  args_hash: string;
}

/** One reviewer's response to a request. */
export interface Review {
  id: string;
  request_id: string;
  reviewer: Principal;
  decision: ReviewDecision;
  approved: boolean;
  option: string | null;
  answer: string | null;
  comment: string | null;
  modified_args: unknown;
  modified_args_hash: string | null;
  /**
   * The arguments this approval approved, and counts for: the edit's hash, else the proposed
   * `tool.args_hash`; null for rejections and requests without a tool. Absent from older servers.
   */
  approved_args_hash?: string | null;
  channel: string;
  created_at: Date;
}

/**
 * Edited arguments approvers approved instead of the proposed ones. Approvals of different
 * arguments never add up: each edit has its own quorum progress. Approve one by responding with the
 * same `modified_args`.
 */
export interface PendingEdit {
  args: unknown;
  args_hash: string;
  /** Progress towards the quorum for exactly these arguments. */
  quorum: { required: number; approvals: number };
}

/** The outcome of a decided request (absent while pending, and for cancelled or timed-out ones). */
export interface RequestResponse {
  approved: boolean;
  option: string | null;
  answer: string | null;
  comment: string | null;
  /** The edited arguments a reviewer approved instead of the proposed ones, else null. */
  modified_args: unknown;
  reviews: Review[];
  decided_at: Date;
}

/** A request's quorum progress: always `required` and `approvals`; the rest from servers with routing. */
export type RequestQuorum = Pick<QuorumProgress, "required" | "approvals"> &
  Partial<Omit<QuorumProgress, "required" | "approvals">>;

export interface ApprovalRequest {
  id: string;
  type: RequestType;
  status: RequestStatus;
  question: string | null;
  title: string | null;
  context: unknown;
  options: RequestOption[] | null;
  required_roles: string[];
  required_approvals: number;
  priority: Priority;
  ttl_seconds: number | null;
  expires_at: Date | null;
  external_request_id: string | null;
  correlation_id: string;
  metadata: Record<string, unknown> | null;
  callback_url: string | null;
  source: RequestSource | null;
  actor: ClaimedActor | null;
  created_by: Principal;
  trace_id: string | null;
  parent_trace_id: string | null;
  tool_calls: unknown[] | null;
  retrieved_context: unknown;
  tool: ToolCall | null;
  body_hash: string;
  /** With `required_roles`, each approval must come from a different role. Absent from older servers. */
  require_distinct_roles?: boolean;
  /** Seconds pending before the request escalates to the next tier; null: never. Absent from older servers. */
  escalate_after_seconds?: number | null;
  /**
   * Progress towards the quorum; `approvals` counts distinct approving reviewers of the proposed
   * arguments (once approved: of the approved ones). Servers with routing also say who approved,
   * which roles are still missing and a `"k of N"` summary.
   */
  quorum: RequestQuorum;
  /**
   * Who the request was routed to and why, and when it escalates next; null for requests stored
   * before routing existed, absent from servers without routing.
   */
  routing?: RequestRouting | null;
  /** Edits approvers proposed, each with its own quorum progress. Absent from older servers. */
  pending_edits?: PendingEdit[];
  response: RequestResponse | null;
  cancellation: { reason: string | null; by: Principal | null } | null;
  /** Present on approved requests that came from a governed call; verify with `verifyApprovalToken`. */
  approval_token?: string | null;
  created_at: Date;
  updated_at: Date;
}

/** Something an agent did and logged itself. */
export interface Action {
  id: string;
  action: string;
  summary: string;
  source: RequestSource | null;
  outcome: string | null;
  severity: Severity;
  correlation_id: string;
  in_reply_to: { type: string; id: string } | null;
  trace_id: string | null;
  metadata: Record<string, unknown> | null;
  created_by: Principal;
  created_at: Date;
}

/** Who caused an audit entry: a key, or the server itself (expiry worker, policy). */
export interface AuditActor {
  type: string;
  key_id?: string;
  name?: string;
  role?: string;
}

/**
 * One link of the hash-chained audit log. `at` is also kept verbatim in `at_text`: the entry's hash
 * covers the exact string, so anyone re-verifying the chain client-side needs it, not the `Date`.
 */
export interface AuditEntry {
  seq: number;
  at: Date;
  at_text: string;
  kind: string;
  subject_id: string;
  correlation_id: string | null;
  actor: AuditActor;
  data: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

/** Everything sharing one `correlation_id`. */
export interface Case {
  correlation_id: string;
  requests: ApprovalRequest[];
  actions: Action[];
  /** Every audit entry of the case, in chain order. */
  timeline: AuditEntry[];
}

export type AuditVerification =
  | { ok: true; entries: number; head_hash: string }
  | { ok: false; entries: number; first_broken_seq: number; reason: string };

/** An API key as listed (never its secret). */
export interface ApiKey {
  id: string;
  name: string;
  role: Role;
  /** The first characters of the secret, to recognise it. */
  hint: string;
  created_at: Date;
  created_by: string | null;
  revoked_at: Date | null;
}

export interface CreatedKey {
  key: ApiKey;
  /** The API key itself; the server shows it once and never again. */
  secret: string;
}

export interface RequestPage {
  data: ApprovalRequest[];
  /** Pass as `cursor` to get the next (older) page; null on the last page. */
  next_cursor: string | null;
}

export interface AuditPage {
  data: AuditEntry[];
  /** Pass as `afterSeq` to get the next page; null on the last page. */
  next_after_seq: number | null;
}

/* ---- inputs: request bodies as the server's schemas accept them ---- */

export interface CreateRequestInput {
  /** Defaults to `approval`. */
  type?: RequestType;
  /** `question` or `title` is required. */
  question?: string;
  title?: string;
  /** Shown to reviewers as text or pretty-printed JSON. */
  context?: string | Record<string, unknown>;
  /** For `decision` requests: at least two, unique names. */
  options?: RequestOption[];
  required_role?: string;
  required_roles?: string[];
  /** Distinct approvals needed (approval requests only); defaults to 1. */
  required_approvals?: number;
  /** With several `required_roles`: each approval must come from a different one of them. */
  require_distinct_roles?: boolean;
  priority?: Priority;
  /** After this many seconds a pending request becomes `timed_out`. */
  ttl_seconds?: number;
  /**
   * Escalate to the next tier (fallback reviewers, then admins) after this long pending; null:
   * never. Defaults by priority (urgent 180, high 600, normal 1800, low never).
   */
  escalate_after_seconds?: number | null;
  /**
   * Idempotency key, unique per agent key: resending the same body returns the original request
   * (`replayed: true`), a different body is refused with 409. Also makes the create safe to retry.
   */
  external_request_id?: string;
  correlation_id?: string;
  metadata?: Record<string, unknown>;
  callback_url?: string;
  source?: RequestSource;
  actor?: ClaimedActor;
  trace_id?: string;
  parent_trace_id?: string;
  tool_calls?: unknown[];
  retrieved_context?: unknown;
  /** The tool call under review; the server hashes `args` so an approval binds these exact arguments. */
  tool?: { name: string; args?: unknown };
}

export interface RespondInput {
  approved?: boolean;
  /** The chosen option's `name` (decision requests). */
  option?: string;
  /** The free-text answer (input requests). */
  answer?: string;
  comment?: string;
  /**
   * Edited tool arguments to approve instead of the proposed ones (approval requests with a tool).
   * Your approval counts only for exactly these arguments; send a pending edit's `args` to approve it.
   */
  modified_args?: unknown;
}

export interface LogActionInput {
  action: string;
  summary: string;
  source?: RequestSource;
  outcome?: string;
  severity?: Severity;
  correlation_id?: string;
  in_reply_to?: { type: string; id: string };
  trace_id?: string;
  metadata?: Record<string, unknown>;
}

export interface CreateKeyInput {
  role: Role;
  name: string;
}
