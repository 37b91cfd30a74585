import { type ApprovalRequest, type Priority, type RequestStatus, STATUSES } from "./types.ts";

/** Inbox filters, as kept in the page's query string. */
export interface InboxFilter {
  status: RequestStatus | "all";
  /** Only requests routed to me (when routing is present) rather than all I may see. */
  mine: boolean;
  role: string;
  agent: string;
  correlation: string;
  search: string;
}

export const DEFAULT_FILTER: InboxFilter = {
  status: "pending",
  mine: true,
  role: "",
  agent: "",
  correlation: "",
  search: "",
};

const PRIORITY_RANK: Record<Priority, number> = { urgent: 0, high: 1, normal: 2, low: 3 };

/** Pending work first by priority, then by the least time left, then oldest first. */
export function comparePending(a: ApprovalRequest, b: ApprovalRequest): number {
  const p = PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority];
  if (p !== 0) return p;
  const ea = a.expires_at === null ? Number.POSITIVE_INFINITY : Date.parse(a.expires_at);
  const eb = b.expires_at === null ? Number.POSITIVE_INFINITY : Date.parse(b.expires_at);
  if (ea !== eb) return ea < eb ? -1 : 1;
  return a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.id < b.id ? -1 : 1;
}

/** Decided work most recent first. */
export function compareRecent(a: ApprovalRequest, b: ApprovalRequest): number {
  return a.updated_at < b.updated_at ? 1 : a.updated_at > b.updated_at ? -1 : a.id < b.id ? 1 : -1;
}

/**
 * Is the request routed to this key? Without routing, or for a request open to every reviewer,
 * everything I may see is mine to decide.
 */
export function routedTo(request: ApprovalRequest, keyId: string): boolean {
  const routing = request.routing;
  if (!routing || routing.state === "open") return true;
  return routing.assignees.some((a) => a.key_id === keyId);
}

export function agentLabel(request: ApprovalRequest): string {
  return request.created_by.name;
}

function searchable(request: ApprovalRequest): string {
  const context = typeof request.context === "string" ? request.context : "";
  return [
    request.id,
    request.title ?? "",
    request.question ?? "",
    request.tool?.name ?? "",
    request.correlation_id,
    request.created_by.name,
    request.actor?.agent_name ?? "",
    request.actor?.agent_id ?? "",
    context.slice(0, 2000),
  ]
    .join("\n")
    .toLowerCase();
}

export function matches(request: ApprovalRequest, filter: InboxFilter, me: string): boolean {
  if (filter.status !== "all" && request.status !== filter.status) return false;
  if (filter.mine && !routedTo(request, me)) return false;
  if (filter.role && !request.required_roles.includes(filter.role)) return false;
  if (filter.agent && agentLabel(request) !== filter.agent) return false;
  if (filter.correlation && request.correlation_id !== filter.correlation.trim()) return false;
  const q = filter.search.trim().toLowerCase();
  if (q && !searchable(request).includes(q)) return false;
  return true;
}

export function selectInbox(
  all: Iterable<ApprovalRequest>,
  filter: InboxFilter,
  me: string,
): ApprovalRequest[] {
  const out: ApprovalRequest[] = [];
  for (const r of all) if (matches(r, filter, me)) out.push(r);
  return out.sort(filter.status === "pending" ? comparePending : compareRecent);
}

/**
 * Which of two copies of a request to keep: a decided request never goes back to pending (a list
 * read that started before the decision may arrive after its event); otherwise the later update.
 */
export function newer(current: ApprovalRequest | undefined, incoming: ApprovalRequest): ApprovalRequest {
  if (!current) return incoming;
  if (current.status !== "pending" && incoming.status === "pending") return current;
  if (incoming.status !== "pending" && current.status === "pending") return incoming;
  return incoming.updated_at >= current.updated_at ? incoming : current;
}

export function filterFromQuery(search: string): InboxFilter {
  const q = new URLSearchParams(search);
  const status = q.get("status");
  const known = status === "all" || (STATUSES as string[]).includes(status ?? "");
  return {
    status: known ? (status as InboxFilter["status"]) : DEFAULT_FILTER.status,
    mine: q.get("scope") !== "all",
    role: q.get("role") ?? "",
    agent: q.get("agent") ?? "",
    correlation: q.get("correlation_id") ?? "",
    search: q.get("q") ?? "",
  };
}

export function filterToQuery(filter: InboxFilter): string {
  const q = new URLSearchParams();
  if (filter.status !== DEFAULT_FILTER.status) q.set("status", filter.status);
  if (!filter.mine) q.set("scope", "all");
  if (filter.role) q.set("role", filter.role);
  if (filter.agent) q.set("agent", filter.agent);
  if (filter.correlation) q.set("correlation_id", filter.correlation);
  if (filter.search) q.set("q", filter.search);
  const text = q.toString();
  return text ? `?${text}` : "";
}
