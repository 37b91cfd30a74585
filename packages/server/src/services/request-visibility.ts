import type { Action, ApprovalRequest, AuditEntry, Principal } from "@countersign/core";
import { listAudit } from "../repos/audit-repo.ts";
import type { Executor } from "../repos/executor.ts";
import { announcedEntryOf } from "../webhooks/events.ts";

// What of a request, and of the activity around it, a caller may see. One rule for every view that
// shows activity (the case view, the event stream): an audit entry or an action that relates to a
// request the caller may not see is hidden with the request.

/** Delivery bookkeeping of delivery bookkeeping goes no deeper than this (a dead letter's own delivery). */
const MAX_DEPTH = 4;

/**
 * The approval token is a credential for the agent that asked (and for admins): everyone else, the
 * reviewers who decided the request included, gets the request without it. Storage keeps it.
 */
export function requestViewFor(by: Principal, request: ApprovalRequest): ApprovalRequest {
  if (!("approval_token" in request)) return request;
  if (by.role === "admin" || by.key_id === request.created_by.key_id) return request;
  const { approval_token: _token, ...view } = request;
  return view;
}

/** The request an `in_reply_to` link names (`{"type": "request", "id": …}`), if it names one. */
export function repliedRequestId(link: unknown): string | undefined {
  if (typeof link !== "object" || link === null) return undefined;
  const { type, id } = link as Record<string, unknown>;
  return type === "request" && typeof id === "string" && id !== "" ? id : undefined;
}

/**
 * The requests an audit entry names itself: its subject when that is a request, `data.request_id`
 * (the request a governed call parked, the request of a consumed token), and `data.in_reply_to`
 * (an action logged in reply to a request).
 */
export function namedRequestIds(entry: Pick<AuditEntry, "subject_id" | "data">): string[] {
  const ids = new Set<string>();
  if (entry.subject_id.startsWith("req_")) ids.add(entry.subject_id);
  const linked = entry.data.request_id;
  if (typeof linked === "string" && linked !== "") ids.add(linked);
  const replied = repliedRequestId(entry.data.in_reply_to);
  if (replied) ids.add(replied);
  return [...ids];
}

/** The requests an action relates to: the one it was logged in reply to. */
export function actionRequestIds(action: Pick<Action, "in_reply_to">): string[] {
  const replied = repliedRequestId(action.in_reply_to);
  return replied ? [replied] : [];
}

/**
 * Which requests audit entries relate to: those they name themselves and, for webhook delivery
 * bookkeeping (`webhook.delivered`, `.failed`, `.dead_lettered`, `.redriven`, whose data names the
 * message delivered, not its subject), those the entry that message announced relates to. Entries
 * already at hand (a case's timeline, a stream's batch) are used without reading them again.
 */
export class RequestLinks {
  private readonly db: Executor;
  private readonly bySeq = new Map<number, AuditEntry>();

  constructor(db: Executor, known: Iterable<AuditEntry> = []) {
    this.db = db;
    for (const entry of known) this.bySeq.set(entry.seq, entry);
  }

  /**
   * The ids of the requests `entry` relates to; null when it is delivery bookkeeping whose event
   * cannot be found, so what it is about is unknown (callers hide it from anyone restricted).
   */
  async of(entry: AuditEntry, depth = 0): Promise<string[] | null> {
    const ids = namedRequestIds(entry);
    const messageId = entry.kind.startsWith("webhook.") ? entry.data.message_id : undefined;
    // Endpoint management and secret rotation name no message: they are about no request.
    if (typeof messageId !== "string") return ids;
    if (depth >= MAX_DEPTH) return null;
    const announced = await this.announced(messageId);
    if (!announced) return null;
    const further = await this.of(announced, depth + 1);
    return further && [...new Set([...ids, ...further])];
  }

  private async announced(messageId: string): Promise<AuditEntry | undefined> {
    const ref = announcedEntryOf(messageId);
    if (!ref) return undefined;
    let entry = this.bySeq.get(ref.seq);
    if (!entry) {
      [entry] = await listAudit(this.db, ref.seq - 1, 1);
      if (!entry) return undefined;
      this.bySeq.set(entry.seq, entry);
    }
    return entry.seq === ref.seq && entry.hash.startsWith(ref.hashPrefix) ? entry : undefined;
  }
}
