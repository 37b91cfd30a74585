/*
 * Wire-format resources and canned responses for the SDK's unit tests (not exported from the
 * package). Shapes follow the server's response schemas; the integration tests check the real thing.
 */

export const PRINCIPAL = { key_id: "key_01", name: "billing agent", role: "agent" } as const;

export function requestJson(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: "req_01",
    type: "approval",
    status: "pending",
    question: "Refund $120?",
    title: null,
    context: null,
    options: null,
    required_roles: [],
    required_approvals: 1,
    priority: "normal",
    ttl_seconds: 60,
    expires_at: "2025-06-01T12:01:00.000Z",
    external_request_id: null,
    correlation_id: "req_01",
    metadata: null,
    callback_url: null,
    source: null,
    actor: null,
    created_by: PRINCIPAL,
    trace_id: null,
    parent_trace_id: null,
    tool_calls: null,
    retrieved_context: null,
    tool: { name: "payments.refund", args: { amount: 120 }, args_hash: `sha256:${"a".repeat(64)}` },
    body_hash: "b".repeat(64),
    quorum: { required: 1, approvals: 0 },
    response: null,
    cancellation: null,
    created_at: "2025-06-01T12:00:00.000Z",
    updated_at: "2025-06-01T12:00:00.000Z",
    ...overrides,
  };
}

export function reviewJson(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: "rev_01",
    request_id: "req_01",
    reviewer: { key_id: "key_02", name: "alice", role: "reviewer" },
    decision: "reject",
    approved: false,
    option: null,
    answer: null,
    comment: "no",
    modified_args: null,
    modified_args_hash: null,
    channel: "api",
    created_at: "2025-06-01T12:00:30.250Z",
    ...overrides,
  };
}

export function auditEntryJson(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    seq: 1,
    at: "2025-06-01T12:00:00.000Z",
    kind: "request.created",
    subject_id: "req_01",
    correlation_id: "req_01",
    actor: { type: "key", key_id: "key_01", name: "billing agent", role: "agent" },
    data: {},
    prev_hash: "0".repeat(64),
    hash: "c".repeat(64),
    ...overrides,
  };
}

export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": status < 400 ? "application/json" : "application/problem+json", ...headers },
  });
}

export function problemResponse(status: number, code: string, extra: Record<string, unknown> = {}): Response {
  return jsonResponse(
    {
      type: `urn:countersign:problem:${code}`,
      title: "Error",
      status,
      detail: `${code} happened`,
      code,
      retryable: status === 429 || status >= 500,
      request_id: "rid-1",
      ...extra,
    },
    status,
  );
}
