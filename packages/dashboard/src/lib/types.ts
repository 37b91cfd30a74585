/** The API's resources as the dashboard reads them (see the server's /openapi.json). */

export type Role = "admin" | "agent" | "reviewer";
export type RequestType = "approval" | "decision" | "input";
export type RequestStatus = "pending" | "approved" | "rejected" | "answered" | "cancelled" | "timed_out";
export type Priority = "low" | "normal" | "high" | "urgent";

export const STATUSES: RequestStatus[] = [
  "pending",
  "approved",
  "rejected",
  "answered",
  "cancelled",
  "timed_out",
];

export interface Principal {
  key_id: string;
  name: string;
  role: Role;
}

export interface Review {
  id: string;
  reviewer: Principal;
  decision: "approve" | "reject" | "answer" | "choose";
  approved: boolean;
  option: string | null;
  answer: string | null;
  comment: string | null;
  modified_args: unknown;
  modified_args_hash: string | null;
  /** The arguments this approval approved and counts for (absent on older reviews). */
  approved_args_hash?: string | null;
  channel: string;
  created_at: string;
  /** With routing: the required roles this review counted for, and whether an admin overrode. */
  roles?: string[];
  override?: boolean;
}

export interface Assignee {
  reviewer_id: string | null;
  key_id: string | null;
  name: string;
  roles: string[];
  tier: string;
  reason: string;
}

/** Present once routing is in place. */
export interface Routing {
  state: "open" | "routed" | "unroutable";
  tier: string | null;
  assignees: Assignee[];
  warnings: Array<{ code: string; message: string }>;
  next_escalation_at?: string | null;
}

export interface QuorumProgress {
  required: number;
  approvals: number;
  summary?: string;
  approvers?: Array<{ key_id: string; name: string }>;
}

/** Edited arguments approvers approved instead of the proposed ones, with their own quorum. */
export interface PendingEdit {
  args: unknown;
  args_hash: string;
  quorum: QuorumProgress;
}

export interface Governance {
  governed_call_id: string;
  run_id: string;
  call_id: string | null;
  rule_id: string;
  policy_version: string;
  risk: string | null;
  reason: string;
  kind: "policy" | "budget_extension";
  environment: string | null;
}

export interface ApprovalRequest {
  id: string;
  type: RequestType;
  status: RequestStatus;
  question: string | null;
  title: string | null;
  context: unknown;
  options: Array<{ name: string; title?: string; description?: string }> | null;
  required_roles: string[];
  required_approvals: number;
  priority: Priority;
  expires_at: string | null;
  correlation_id: string;
  metadata: Record<string, unknown> | null;
  source: { integration: string; run_id?: string; workflow_id?: string } | null;
  actor: { agent_id?: string; agent_name?: string } | null;
  created_by: Principal;
  trace_id: string | null;
  parent_trace_id: string | null;
  tool_calls: unknown[] | null;
  retrieved_context: unknown;
  tool: { name: string; args: unknown; args_hash: string } | null;
  /** Approvals of the proposed arguments (once approved: of the approved ones). */
  quorum: QuorumProgress;
  /** Absent from servers that predate tallying edits apart. */
  pending_edits?: PendingEdit[];
  routing?: Routing | null;
  response: {
    approved: boolean;
    option: string | null;
    answer: string | null;
    comment: string | null;
    modified_args: unknown;
    reviews: Review[];
    decided_at: string;
  } | null;
  cancellation: { reason: string | null; by: Principal | null } | null;
  governance?: Governance | null;
  created_at: string;
  updated_at: string;
}

export interface AuditEntry {
  seq: number;
  at: string;
  kind: string;
  subject_id: string;
  correlation_id: string | null;
  actor: { type: string; key_id?: string; name?: string; role?: string };
  data: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

export interface StreamEvent extends AuditEntry {
  request?: ApprovalRequest;
}

export interface Account {
  id: string;
  email: string;
  name: string | null;
  role: "admin" | "reviewer";
  key_id: string;
  created_at: string;
  password_set_at: string;
  disabled_at: string | null;
}

export interface SessionState {
  principal: Principal;
  account: Account | null;
  session: { id: string; expires_at: string; idle_expires_at: string } | null;
  csrf_token: string | null;
}

export interface Action {
  id: string;
  action: string;
  summary: string;
  outcome: string | null;
  severity: string;
  correlation_id: string;
  in_reply_to: { type: string; id: string } | null;
  created_by: Principal;
  created_at: string;
}

export interface CaseView {
  correlation_id: string;
  requests: ApprovalRequest[];
  actions: Action[];
  timeline: AuditEntry[];
}

export interface Page<T> {
  data: T[];
  next_cursor?: string | null;
}
