import { ConflictError, type Principal } from "@countersign/core";
import type { Executor } from "../repos/executor.ts";
import { findGovernedCall } from "../repos/governance-repo.ts";
import { getRequest } from "../repos/requests-repo.ts";
import type { GovernResult } from "./govern-types.ts";
import type { KillSwitchService } from "./kill-switch-service.ts";

/** The stored answer for an (agent, run, call), refreshed with where its parked request stands. */
export async function replayGovernedCall(
  db: Executor,
  by: Principal,
  runId: string,
  callId: string,
  call: { tool: string; argsHash: string },
  killSwitch: KillSwitchService,
): Promise<GovernResult | null> {
  const doc = await findGovernedCall(db, by.key_id, runId, callId);
  if (!doc) return null;
  const stored = JSON.parse(doc) as GovernResult;
  // A call id names one call: reusing it for another tool or other arguments must not borrow the
  // first call's decision (an allow for something never checked).
  if (stored.tool !== call.tool || stored.args_hash !== call.argsHash) {
    throw new ConflictError(
      "idempotency_mismatch",
      `call_id ${JSON.stringify(callId)} of run ${JSON.stringify(runId)} was already used for another tool call`,
    );
  }
  const result: GovernResult = { ...stored, replayed: true };
  if (!stored.request_id) return result;
  const request = await getRequest(db, stored.request_id);
  if (!request) return result;
  result.request_status = request.status;
  result.review_comment = request.response?.comment ?? null;
  switch (request.status) {
    case "approved": {
      // The kill switch wins over approvals given before it was engaged.
      const killed = await killSwitch.coveringRequest(db, request);
      if (killed) {
        result.decision = "deny";
        result.stop_reason = "killed";
        result.reason = `kill switch ${killed.id} (${killed.scope}): ${killed.reason}`;
        break;
      }
      result.stop_reason = null;
      result.approval_token = request.approval_token ?? null;
      result.approved_args = request.response?.modified_args ?? request.tool?.args ?? null;
      break;
    }
    case "rejected":
      result.stop_reason = "approval_rejected";
      break;
    case "timed_out":
      result.stop_reason = "approval_timeout";
      break;
    case "cancelled":
      result.stop_reason = "approval_cancelled";
      break;
  }
  return result;
}
