import type { GovernResult } from "@countersign/sdk";

/*
 * What the model is told when a call does not run. Each says plainly why, and whether asking again
 * can help, so the model neither retries a final answer nor gives up on a pending one.
 */

export function deniedMessage(result: Pick<GovernResult, "reason" | "stop_reason">): string {
  return `Countersign denied this call (${result.stop_reason ?? "policy_denied"}): ${result.reason}`;
}

export function rejectedMessage(comment: string | null): string {
  return comment?.trim() ? comment : "A reviewer rejected this call in Countersign.";
}

export function timedOutMessage(requestId: string | null): string {
  return `No reviewer decided on this call in time (request ${requestId ?? "unknown"} timed out), so it did not run. Nobody rejected it.`;
}

export function cancelledMessage(requestId: string | null, reason: string | null): string {
  return `The approval request ${requestId ?? ""} was cancelled${reason ? `: ${reason}` : ""}; the call did not run.`;
}

export function pendingMessage(requestId: string | null): string {
  return `This call is still waiting for a reviewer in Countersign (request ${requestId ?? "unknown"}); it did not run.`;
}

export function editsNotAppliedMessage(approvedArgs: unknown): string {
  return `A reviewer approved this call only with different arguments: ${JSON.stringify(approvedArgs)}. It did not run; call the tool again with exactly those arguments.`;
}
