// What the parts of the webhooks service share: its dependencies, the outbox, the secret box and the
// outbound policy once started, a way to wake the delivery worker, and the shape of their audit
// entries. Each part reads these at call time, so `start` and `stop` take effect everywhere at once.

import { type AuditDraft, type Principal, principalActor, UnavailableError } from "@countersign/core";
import type { ServiceDeps } from "../services/deps.ts";
import type { Outbox } from "./outbox.ts";
import type { SecretBox } from "./secrets.ts";
import type { OutboundPolicy } from "./ssrf.ts";

export interface WebhooksState {
  readonly deps: ServiceDeps;
  readonly outbox: Outbox;
  /** The box that seals signing secrets: undefined until the service has started. */
  box(): SecretBox | undefined;
  /** The outbound policy in force (the configured allowlist once started). */
  policy(): OutboundPolicy;
  /** Wakes the delivery worker, if it is running. */
  pokeWorker(): void;
}

export function requireBox(state: WebhooksState): SecretBox {
  const box = state.box();
  if (!box) throw new UnavailableError("webhooks are not started yet");
  return box;
}

export function auditDraft(
  at: string,
  kind: string,
  subjectId: string,
  by: Principal,
  data: Record<string, unknown>,
): AuditDraft {
  return { at, kind, subject_id: subjectId, correlation_id: null, actor: principalActor(by), data };
}
