import type { AuditDraft } from "./audit.ts";
import { principalActor } from "./request-transition.ts";
import type { Principal, RequestSource } from "./request-types.ts";

export const SEVERITIES = ["debug", "info", "notice", "warning", "error", "critical"] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface NewActionInput {
  action: string;
  summary: string;
  source?: RequestSource;
  outcome?: string;
  severity?: Severity;
  correlation_id?: string;
  in_reply_to?: { type: string; id: string };
  trace_id?: string;
  metadata?: Record<string, unknown>;
}

/** Something an agent did and logged itself (`log_action`): evidence of autonomous or delivered work. */
export interface Action {
  id: string;
  action: string;
  summary: string;
  source: RequestSource | null;
  outcome: string | null;
  severity: Severity;
  correlation_id: string;
  in_reply_to: { type: string; id: string } | null;
  trace_id: string | null;
  metadata: Record<string, unknown> | null;
  created_by: Principal;
  created_at: string;
}

export function createAction(
  input: NewActionInput,
  ctx: { id: string; now: number; by: Principal; replyCorrelationId?: string },
): { action: Action; audit: AuditDraft[] } {
  const at = new Date(ctx.now).toISOString();
  const action: Action = {
    id: ctx.id,
    action: input.action,
    summary: input.summary,
    source: input.source ?? null,
    outcome: input.outcome ?? null,
    severity: input.severity ?? "info",
    // An action replying to a request joins that request's case unless the agent says otherwise.
    correlation_id: input.correlation_id ?? ctx.replyCorrelationId ?? input.source?.run_id ?? ctx.id,
    in_reply_to: input.in_reply_to ?? null,
    trace_id: input.trace_id ?? null,
    metadata: input.metadata ?? null,
    created_by: ctx.by,
    created_at: at,
  };
  return {
    action,
    audit: [
      {
        at,
        kind: "action.logged",
        subject_id: action.id,
        correlation_id: action.correlation_id,
        actor: principalActor(ctx.by),
        data: {
          action: action.action,
          summary: action.summary,
          outcome: action.outcome,
          severity: action.severity,
          in_reply_to: action.in_reply_to,
          source: action.source,
          trace_id: action.trace_id,
        },
      },
    ],
  };
}
