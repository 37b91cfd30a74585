/*
 * The arguments CountersignClient's methods share (call options, list filters, the create result)
 * and how they become `Call`s for the transport: method, path, query and whether a resend is safe.
 */

import type { Call } from "./transport.ts";
import type { ApprovalRequest, RequestStatus } from "./types.ts";

/** Options every call accepts. */
export interface CallOptions {
  /** Aborting rejects the call at once with the signal's reason. */
  signal?: AbortSignal;
}

export interface CreateRequestResult {
  request: ApprovalRequest;
  /**
   * True when the server answered 200 instead of 201: a request with this `external_request_id` and
   * the same body already existed, and this is it. (Also true when a retry of this very call found
   * that its first attempt had gone through.)
   */
  replayed: boolean;
}

export interface ListRequestsFilter {
  status?: RequestStatus;
  correlationId?: string;
  /** Only requests routed to this reviewer role. */
  role?: string;
  /** Page size, 1–200; the server's default is 50. */
  limit?: number;
  /** `next_cursor` of the previous page. */
  cursor?: string;
}

export interface ListAuditOptions {
  /** Entries after this `seq`; 0 (the default) starts at the beginning. */
  afterSeq?: number;
  /** Page size, 1–1000; the server's default is 100. */
  limit?: number;
}

/** A read: always safe to resend, so retried on transient failures. */
export function getCall(path: string, options: CallOptions, query?: Call["query"]): Call {
  const call: Call = { method: "GET", path, idempotent: true, signal: options.signal };
  if (query) call.query = query;
  return call;
}

/** A write, retried only when `idempotent` says the server deduplicates it. */
export function postCall(path: string, body: unknown, options: CallOptions, idempotent = false): Call {
  return { method: "POST", path, body, idempotent, signal: options.signal };
}

/** A write of another kind (`PATCH`, `DELETE`); never retried. */
export function writeCall(
  method: "PATCH" | "DELETE",
  path: string,
  options: CallOptions,
  body?: unknown,
): Call {
  return { method, path, body, idempotent: false, signal: options.signal };
}

/** The query of `GET /v1/requests`. */
export function requestsQuery(filter: ListRequestsFilter): Call["query"] {
  return {
    status: filter.status,
    correlation_id: filter.correlationId,
    role: filter.role,
    limit: filter.limit,
    cursor: filter.cursor,
  };
}

/** The query of `GET /v1/audit`. */
export function auditQuery(page: ListAuditOptions): Call["query"] {
  return { after_seq: page.afterSeq, limit: page.limit };
}
