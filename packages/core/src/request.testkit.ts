// Shared fixtures of the request lifecycle tests: an agent, three reviewers, a fixed time, and `make`
// for a request created by that agent. Not exported from the package.

import { createRequest } from "./request-create.ts";
import type { ApprovalRequest, NewRequestInput, Principal } from "./request-types.ts";

export const agent: Principal = { key_id: "key_a", name: "bot", role: "agent" };
export const r1: Principal = { key_id: "key_r1", name: "ann", role: "reviewer" };
export const r2: Principal = { key_id: "key_r2", name: "bob", role: "reviewer" };
export const r3: Principal = { key_id: "key_r3", name: "cat", role: "reviewer" };
export const now = Date.UTC(2026, 0, 1);

export function make(input: NewRequestInput): ApprovalRequest {
  return createRequest(input, { id: "req_1", now, by: agent }).request;
}
