/**
 * Shapes of reviewers and routing. A reviewer is a person: business roles (`finance`, `sre`), an
 * IANA timezone, weekly shifts in that zone, dated overrides, and the roles they cover as a fallback.
 * Business roles are unrelated to key roles (`admin | agent | reviewer`): a reviewer key says a
 * caller may review at all; the reviewer record linked to it says what they may review.
 */

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/**
 * A weekly shift in the reviewer's local wall time. `end` may be `"24:00"` (midnight at the end of
 * the day); an `end` at or before `start` means the shift runs past midnight into the next day,
 * which still belongs to the shift that started on one of `days`.
 */
export interface Shift {
  days: Weekday[];
  /** `HH:MM`, 00:00–23:59. */
  start: string;
  /** `HH:MM`, 00:01–24:00. */
  end: string;
}

/**
 * A dated exception in the reviewer's local wall time: `off` (out of office) or `on` (extra on-call).
 * `from` and `to` are `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM`; a bare `from` date starts at 00:00, a bare
 * `to` date includes that whole day. `off` wins over everything else while it lasts.
 */
export interface ShiftOverride {
  kind: "off" | "on";
  from: string;
  to: string;
  note?: string;
}

/** Contact channels: where notifications go (delivered by channel features, not by routing). */
export interface ReviewerContacts {
  email: string | null;
  slack_user_id: string | null;
  phone: string | null;
}

/** A reviewer as stored and served by `/v1/reviewers`. */
export interface Reviewer extends ReviewerContacts {
  id: string;
  name: string;
  roles: string[];
  /** Roles this reviewer covers when no holder is available; covering also lets them decide. */
  fallback_for: string[];
  timezone: string;
  shifts: Shift[];
  overrides: ShiftOverride[];
  /** The API key (reviewer or admin) this person responds with; maps a responding key to a person. */
  key_id: string | null;
  /**
   * Agent keys this person owns. Separation of duties: an owner never counts towards the quorum of
   * a request that agent made. (A reviewer whose own key created the agent key owns it as well.)
   */
  owns_agent_keys: string[];
  created_at: string;
  updated_at: string;
}

/** The fields of a reviewer that routing and eligibility read. */
export type RoutingReviewer = Pick<
  Reviewer,
  | "id"
  | "name"
  | "roles"
  | "fallback_for"
  | "timezone"
  | "shifts"
  | "overrides"
  | "key_id"
  | "owns_agent_keys"
>;

/** What the request needs: the same three fields a create body and the Control Map carry. */
export interface ApprovalRequirements {
  required_roles: string[];
  required_approvals: number;
  require_distinct_roles: boolean;
}

/** Who asked, for separation of duties: the creating key and, if known, the key that created it. */
export interface RequesterFacts {
  /** The key that created the request (an agent key, or an admin key creating by hand). */
  created_by_key_id: string;
  /** `keys.created_by` of that key: the admin key that issued it, if any. */
  creator_issued_by: string | null;
}

export const ROUTING_TIERS = ["primary", "fallback", "admins"] as const;
export type RoutingTier = (typeof ROUTING_TIERS)[number];

/** One person (or admin key) a request was routed to, and why. */
export interface Assignee {
  /** The reviewer record; null for an admin key without one. */
  reviewer_id: string | null;
  key_id: string | null;
  name: string;
  /** The required roles they were routed for (empty for admins). */
  roles: string[];
  tier: RoutingTier;
  /** Human-readable reason, e.g. "holds finance, on shift". */
  reason: string;
}

export const ROUTING_WARNING_CODES = [
  "role_unmapped",
  "role_off_shift",
  "all_off_shift",
  "quorum_exceeds_eligible",
  "quorum_exceeds_on_shift",
  "distinct_roles_unreachable",
  "fallback_routing",
  "conflicts_excluded",
] as const;
export type RoutingWarningCode = (typeof ROUTING_WARNING_CODES)[number];

export interface RoutingWarning {
  code: RoutingWarningCode;
  message: string;
  role?: string;
}

/**
 * How a request was routed. `open`: no required roles, so any reviewer may decide and nobody in
 * particular was picked. `routed`: the assignees can satisfy the quorum now. `unroutable`: they
 * cannot (possibly nobody at all), which is said in `warnings`, the response and the audit log.
 */
export interface RequestRouting {
  state: "open" | "routed" | "unroutable";
  tier: RoutingTier | null;
  assignees: Assignee[];
  warnings: RoutingWarning[];
  routed_at: string;
  /** Seconds a request may stay pending before it goes to the next tier; null: never escalates. */
  escalate_after_seconds: number | null;
  /** When the next escalation fires while the request is pending; null when there is no next tier. */
  next_escalation_at: string | null;
  escalations: number;
  escalated_at: string | null;
}

/** One counted approval in the quorum, with the role it was credited to. */
export interface QuorumApprover {
  key_id: string;
  reviewer_id: string | null;
  name: string;
  /** The required role this approval fills (with `require_distinct_roles`), or the first eligible one. */
  role: string | null;
  override: boolean;
}

/** Progress towards the quorum: `approvals` of `required` distinct eligible reviewers. */
export interface QuorumProgress {
  required: number;
  approvals: number;
  remaining: number;
  distinct_roles: boolean;
  approvers: QuorumApprover[];
  /** Required roles not yet represented (only with `require_distinct_roles`). */
  missing_roles: string[];
  /** `"k of N"`, for people. */
  summary: string;
}

export interface CapacityEntry {
  role: string;
  reviewers: Array<{ id: string; name: string }>;
  count: number;
}

/** The Control Map's answer: what routing a request with these requirements would do right now. */
export interface ControlMap {
  satisfiable: boolean;
  required_roles: string[];
  required_approvals: number;
  require_distinct_roles: boolean;
  /** Per role: eligible holders on shift now. */
  on_shift_capacity: CapacityEntry[];
  /** Per role: fallback reviewers on shift now, who would receive the request if holders cannot. */
  fallback_reviewers: CapacityEntry[];
  /** Who a request would be routed to now (the same plan as creating it). */
  would_route_to: Assignee[];
  /** The next moment any relevant reviewer goes on or off shift (looked ahead a few weeks). */
  next_shift_change: string | null;
  warnings: RoutingWarning[];
}
