import type { Role } from "./keys.ts";
import type { QuorumProgress, RequestRouting } from "./routing/types.ts";

export const REQUEST_TYPES = ["approval", "decision", "input"] as const;
export type RequestType = (typeof REQUEST_TYPES)[number];

export const REQUEST_STATUSES = [
  "pending",
  "approved",
  "rejected",
  "answered",
  "cancelled",
  "timed_out",
] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

export const PRIORITIES = ["low", "normal", "high", "urgent"] as const;
export type Priority = (typeof PRIORITIES)[number];

export function isTerminal(status: RequestStatus): boolean {
  return status !== "pending";
}

/** A verified identity: the key a call was authenticated with. */
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

/** Identity the agent *claims* in the body; the verified one is `created_by`. */
export interface ClaimedActor {
  agent_id?: string;
  agent_name?: string;
}

export interface ToolCall {
  name: string;
  args: unknown;
  args_hash: string;
}

/** A request body after schema validation at the boundary. */
export interface NewRequestInput {
  type?: RequestType;
  question?: string;
  title?: string;
  context?: unknown;
  options?: RequestOption[];
  required_role?: string;
  required_roles?: string[];
  required_approvals?: number;
  /** Approvals must come from different required roles (one per role). */
  require_distinct_roles?: boolean;
  priority?: Priority;
  ttl_seconds?: number;
  /** Escalate to the next tier after this long pending; null: never. Default: by priority. */
  escalate_after_seconds?: number | null;
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
  tool?: { name: string; args?: unknown };
}

export interface RespondInput {
  approved?: boolean;
  option?: string;
  answer?: string;
  comment?: string;
  modified_args?: unknown;
}

export type ReviewDecision = "approve" | "reject" | "answer" | "choose";

export interface Review {
  id: string;
  request_id: string;
  reviewer: Principal;
  /** The reviewer record (the person) the responding key is linked to, if any, and their name. */
  reviewer_id: string | null;
  reviewer_name: string | null;
  /** The required roles the reviewer decided for (empty for open requests and overrides). */
  roles: string[];
  /** An admin decided without being an eligible reviewer. */
  override: boolean;
  decision: ReviewDecision;
  approved: boolean;
  option: string | null;
  answer: string | null;
  comment: string | null;
  /** The edited arguments this reviewer sent with an approval, else null. */
  modified_args: unknown;
  modified_args_hash: string | null;
  /**
   * The arguments an approval approves, by hash: the edit's hash, else the proposed
   * `tool.args_hash`; null for rejections and requests without a tool. An approval counts only
   * towards the quorum of exactly these arguments. (Absent on reviews stored before it existed.)
   */
  approved_args_hash: string | null;
  channel: string;
  created_at: string;
}

/**
 * Edited arguments that approvers have approved instead of the proposed ones, while the request is
 * pending: each edit gathers its own approvals, and approvals of different arguments never add up.
 * A later approver approves an edit by sending the same `modified_args` (the same `args_hash`).
 */
export interface PendingEdit {
  /** The edited arguments, as the first approver to propose them sent them. */
  args: unknown;
  /** `sha256:` hash of their RFC 8785 form; the same edit always has the same hash. */
  args_hash: string;
  /** Progress towards the quorum for exactly these arguments; `approvers` approved them. */
  quorum: QuorumProgress;
}

export interface RequestResponse {
  approved: boolean;
  option: string | null;
  answer: string | null;
  comment: string | null;
  modified_args: unknown;
  reviews: Review[];
  decided_at: string;
}

/** Where a request came from when `govern` created it: ties the approval token to the governed call. */
export interface GovernanceLink {
  governed_call_id: string;
  run_id: string;
  call_id: string | null;
  rule_id: string;
  policy_version: string;
  risk: string | null;
  /** Why the call needed approval: a policy rule, or a budget a human may extend. */
  reason: string;
  kind: "policy" | "budget_extension";
  /** The environment the call named, so an edit is re-checked under the same conditions. */
  environment: string | null;
  context?: unknown;
}

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
  require_distinct_roles: boolean;
  priority: Priority;
  ttl_seconds: number | null;
  expires_at: string | null;
  /** Seconds pending before escalation to the next tier (explicit or by priority); null: never. */
  escalate_after_seconds: number | null;
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
  /** Fingerprint of the creating body, used to tell an identical idempotent replay from a conflicting one. */
  body_hash: string;
  /**
   * Progress towards the quorum: `approvals` counts distinct eligible people (`k of N`) who approved
   * the proposed arguments (for requests without a tool, everyone who approved). Once a request is
   * approved: the approvals of the arguments that were approved.
   */
  quorum: QuorumProgress;
  /**
   * Edits approvers proposed, each with its own quorum progress (see `PendingEdit`); empty when
   * nobody edited. Kept as it stood once the request is decided.
   */
  pending_edits: PendingEdit[];
  /** Who the request was routed to and why, and when it escalates next. */
  routing: RequestRouting | null;
  response: RequestResponse | null;
  cancellation: { reason: string | null; by: Principal | null } | null;
  /** Set when the request was created by `POST /v1/govern`. */
  governance?: GovernanceLink | null;
  /** Signed, single-use token bound to the approved arguments (governed requests, once approved). */
  approval_token?: string | null;
  created_at: string;
  updated_at: string;
}
