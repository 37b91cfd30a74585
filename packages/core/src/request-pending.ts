/*
 * The guard every transition out of `pending` starts with. Internal to the request lifecycle, so it
 * is deliberately not re-exported from index.ts.
 */

import { ConflictError } from "./errors.ts";
import type { ApprovalRequest } from "./request-types.ts";
import { isTerminal } from "./request-types.ts";

export function assertPending(request: ApprovalRequest): void {
  if (isTerminal(request.status)) {
    throw new ConflictError("already_decided", `request ${request.id} is already ${request.status}`);
  }
}
