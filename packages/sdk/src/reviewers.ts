import type { ApprovalRequest } from "./types.ts";
import {
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
 * Reviewers and routing, as the SDK hands them out: reviewer records, the Control Map, and the
 * routing and quorum progress every request carries. Field names as on the wire; timestamps as
 * `Date`. Bodies go out exactly as the server's schemas accept them.
 */

export type Weekday = "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun";

/** A weekly shift in the reviewer's local time; `end` at or before `start` runs past midnight. */
export interface Shift {
  days: Weekday[];
  /** `HH:MM`. */
  start: string;
  /** `HH:MM`; `24:00` is midnight. */
  end: string;
}

/** A dated exception in local time: `off` (out of office, wins over everything) or `on` (extra on-call). */
export interface ShiftOverride {
  kind: "off" | "on";
  /** `YYYY-MM-DD` (from 00:00) or `YYYY-MM-DDTHH:MM`. */
  from: string;
  /** `YYYY-MM-DD` (that whole day) or `YYYY-MM-DDTHH:MM` (exclusive). */
  to: string;
  note?: string;
}

/** A person requests are routed to. */
export interface Reviewer {
  id: string;
  name: string;
  roles: string[];
  fallback_for: string[];
  /** IANA timezone, e.g. `Europe/Paris`. */
  timezone: string;
  shifts: Shift[];
  overrides: ShiftOverride[];
  email: string | null;
  slack_user_id: string | null;
  phone: string | null;
  /** The reviewer or admin key this person responds with. */
  key_id: string | null;
  /** Agent keys this person owns: they never count towards those agents' quorums. */
  owns_agent_keys: string[];
  created_at: Date;
  updated_at: Date;
}

export interface CreateReviewerInput {
  name: string;
  roles: string[];
  fallback_for?: string[];
  timezone: string;
  shifts?: Shift[];
  overrides?: ShiftOverride[];
  email?: string | null;
  slack_user_id?: string | null;
  phone?: string | null;
  key_id?: string | null;
  owns_agent_keys?: string[];
}

/** Fields left out are kept; `null` clears a contact or the key. */
export type UpdateReviewerInput = Partial<CreateReviewerInput>;

export interface ListReviewersFilter {
  /** Only reviewers holding or covering this role. */
  role?: string;
  /** Page size, 1–200; the server's default is 50. */
  limit?: number;
  cursor?: string;
}

export interface ReviewerPage {
  data: Reviewer[];
  next_cursor: string | null;
}

export interface ControlMapInput {
  approval_requirements: {
    required_roles?: string[];
    required_approvals?: number;
    require_distinct_roles?: boolean;
  };
  metadata?: Record<string, unknown>;
  /** Admin keys only: judge separation of duties as if this agent key were asking. */
  agent_key_id?: string;
}

/** Why routing would fail or fell back; `code` is one of the documented warning codes. */
export interface RoutingWarning {
  code: string;
  message: string;
  role?: string;
}

export type RoutingTier = "primary" | "fallback" | "admins";

export interface Assignee {
  reviewer_id: string | null;
  key_id: string | null;
  name: string;
  roles: string[];
  tier: RoutingTier;
  reason: string;
}

export interface CapacityEntry {
  /** A required role, or `*` when none is required. */
  role: string;
  reviewers: Array<{ id: string; name: string }>;
  count: number;
}

export interface ControlMap {
  /** A request created now would be routed, not flagged unroutable. */
  satisfiable: boolean;
  required_roles: string[];
  required_approvals: number;
  require_distinct_roles: boolean;
  on_shift_capacity: CapacityEntry[];
  fallback_reviewers: CapacityEntry[];
  would_route_to: Assignee[];
  next_shift_change: Date | null;
  warnings: RoutingWarning[];
}

/** Who a request was routed to and why, and when it escalates next. */
export interface RequestRouting {
  state: "open" | "routed" | "unroutable";
  tier: RoutingTier | null;
  assignees: Assignee[];
  warnings: RoutingWarning[];
  routed_at: Date;
  escalate_after_seconds: number | null;
  next_escalation_at: Date | null;
  escalations: number;
  escalated_at: Date | null;
}

/** Progress towards the quorum: `approvals` of `required` distinct eligible people. */
export interface QuorumProgress {
  required: number;
  approvals: number;
  remaining: number;
  distinct_roles: boolean;
  approvers: Array<{
    key_id: string;
    reviewer_id: string | null;
    name: string;
    role: string | null;
    override: boolean;
  }>;
  missing_roles: string[];
  /** `"k of N"`. */
  summary: string;
}

const strings = arrayOf(str);
const tier = oneOf(["primary", "fallback", "admins"]);

const shift: Parser<Shift> = (value, path) => {
  const o = obj(value, path);
  return {
    ...o,
    days: field(o, "days", arrayOf(oneOf(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])), path),
    start: field(o, "start", str, path),
    end: field(o, "end", str, path),
  };
};

const override: Parser<ShiftOverride> = (value, path) => {
  const o = obj(value, path);
  const out: ShiftOverride = {
    ...o,
    kind: field(o, "kind", oneOf(["off", "on"]), path),
    from: field(o, "from", str, path),
    to: field(o, "to", str, path),
  };
  const note = field(o, "note", optional(str), path);
  if (note !== undefined) out.note = note;
  return out;
};

export const reviewer: Parser<Reviewer> = (value, path) => {
  const o = obj(value, path);
  return {
    ...o,
    id: field(o, "id", str, path),
    name: field(o, "name", str, path),
    roles: field(o, "roles", strings, path),
    fallback_for: field(o, "fallback_for", strings, path),
    timezone: field(o, "timezone", str, path),
    shifts: field(o, "shifts", arrayOf(shift), path),
    overrides: field(o, "overrides", arrayOf(override), path),
    email: field(o, "email", nullable(str), path),
    slack_user_id: field(o, "slack_user_id", nullable(str), path),
    phone: field(o, "phone", nullable(str), path),
    key_id: field(o, "key_id", nullable(str), path),
    owns_agent_keys: field(o, "owns_agent_keys", strings, path),
    created_at: field(o, "created_at", timestamp, path),
    updated_at: field(o, "updated_at", timestamp, path),
  };
};

export const reviewerPage: Parser<ReviewerPage> = (value, path) => {
  const o = obj(value, path);
  return {
    data: field(o, "data", arrayOf(reviewer), path),
    next_cursor: field(o, "next_cursor", nullable(str), path),
  };
};

const warning: Parser<RoutingWarning> = (value, path) => {
  const o = obj(value, path);
  const out: RoutingWarning = {
    ...o,
    code: field(o, "code", str, path),
    message: field(o, "message", str, path),
  };
  const role = field(o, "role", optional(str), path);
  if (role !== undefined) out.role = role;
  return out;
};

const assignee: Parser<Assignee> = (value, path) => {
  const o = obj(value, path);
  return {
    ...o,
    reviewer_id: field(o, "reviewer_id", nullable(str), path),
    key_id: field(o, "key_id", nullable(str), path),
    name: field(o, "name", str, path),
    roles: field(o, "roles", strings, path),
    tier: field(o, "tier", tier, path),
    reason: field(o, "reason", str, path),
  };
};

const capacity: Parser<CapacityEntry> = (value, path) => {
  const o = obj(value, path);
  const person: Parser<{ id: string; name: string }> = (v, p) => {
    const r = obj(v, p);
    return { ...r, id: field(r, "id", str, p), name: field(r, "name", str, p) };
  };
  return {
    ...o,
    role: field(o, "role", str, path),
    reviewers: field(o, "reviewers", arrayOf(person), path),
    count: field(o, "count", int, path),
  };
};

export const controlMap: Parser<ControlMap> = (value, path) => {
  const o = obj(value, path);
  return {
    ...o,
    satisfiable: field(o, "satisfiable", bool, path),
    required_roles: field(o, "required_roles", strings, path),
    required_approvals: field(o, "required_approvals", int, path),
    require_distinct_roles: field(o, "require_distinct_roles", bool, path),
    on_shift_capacity: field(o, "on_shift_capacity", arrayOf(capacity), path),
    fallback_reviewers: field(o, "fallback_reviewers", arrayOf(capacity), path),
    would_route_to: field(o, "would_route_to", arrayOf(assignee), path),
    next_shift_change: field(o, "next_shift_change", nullable(timestamp), path),
    warnings: field(o, "warnings", arrayOf(warning), path),
  };
};

export const requestRouting: Parser<RequestRouting> = (value, path) => {
  const o = obj(value, path);
  return {
    ...o,
    state: field(o, "state", oneOf(["open", "routed", "unroutable"]), path),
    tier: field(o, "tier", nullable(tier), path),
    assignees: field(o, "assignees", arrayOf(assignee), path),
    warnings: field(o, "warnings", arrayOf(warning), path),
    routed_at: field(o, "routed_at", timestamp, path),
    escalate_after_seconds: field(o, "escalate_after_seconds", nullable(int), path),
    next_escalation_at: field(o, "next_escalation_at", nullable(timestamp), path),
    escalations: field(o, "escalations", int, path),
    escalated_at: field(o, "escalated_at", nullable(timestamp), path),
  };
};

export const quorumProgress: Parser<QuorumProgress> = (value, path) => {
  const o = obj(value, path);
  const approver: Parser<QuorumProgress["approvers"][number]> = (v, p) => {
    const a = obj(v, p);
    return {
      ...a,
      key_id: field(a, "key_id", str, p),
      reviewer_id: field(a, "reviewer_id", nullable(str), p),
      name: field(a, "name", str, p),
      role: field(a, "role", nullable(str), p),
      override: field(a, "override", bool, p),
    };
  };
  return {
    ...o,
    required: field(o, "required", int, path),
    approvals: field(o, "approvals", int, path),
    remaining: field(o, "remaining", int, path),
    distinct_roles: field(o, "distinct_roles", bool, path),
    approvers: field(o, "approvers", arrayOf(approver), path),
    missing_roles: field(o, "missing_roles", strings, path),
    summary: field(o, "summary", str, path),
  };
};

/**
 * The routing and quorum progress of a request, checked and with `Date`s. Null for either when the
 * server predates routing (or the request was stored before it); throws `ShapeError` if malformed.
 */
export function routingOf(request: ApprovalRequest): {
  routing: RequestRouting | null;
  quorum: QuorumProgress | null;
} {
  // Requests parsed by this SDK carry both already checked; anything else is checked here.
  const o = request as unknown as Record<string, unknown>;
  const raw = o.routing as { routed_at?: unknown } | null | undefined;
  const routing =
    raw === undefined || raw === null
      ? null
      : raw.routed_at instanceof Date
        ? (raw as RequestRouting)
        : requestRouting(raw, "$.routing");
  const q = request.quorum as unknown as Record<string, unknown>;
  const quorum = q.summary === undefined ? null : quorumProgress(q, "$.quorum");
  return { routing, quorum };
}
