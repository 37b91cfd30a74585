import { escalateRequest, type RequesterFacts, type Reviewer, upgradeRequest } from "@countersign/core";
import { hasDueEscalation, listDueEscalations, saveEscalation } from "../repos/routing-repo.ts";
import type { ServiceDeps } from "./deps.ts";
import { adminContacts, requesterFacts, routingReviewers } from "./routing-inputs.ts";

/**
 * The escalation sweep, run by the same durable worker as expiry. Due requests are found by their
 * `escalate_at` column and escalated in one transaction with their `request.escalated` audit entry;
 * a compare-and-set on `escalate_at` makes each escalation fire exactly once, across replicas
 * (which also skip each other's locked rows on PostgreSQL) and across restarts.
 */
export class EscalationService {
  private readonly deps: ServiceDeps;
  constructor(deps: ServiceDeps) {
    this.deps = deps;
  }

  /** Escalates up to `limit` due requests; returns how many were looked at (a full batch: call again). */
  async escalateDue(limit = 200): Promise<number> {
    if (!(await hasDueEscalation(this.deps.store.db, new Date(this.deps.clock.now()).toISOString())))
      return 0;
    return this.deps.store.write(async (ctx) => {
      const now = this.deps.clock.now();
      const due = await listDueEscalations(ctx.db, new Date(now).toISOString(), limit, ctx.dialect);
      if (due.length === 0) return 0;
      const admins = await adminContacts(ctx.db);
      // Requests in one sweep often share roles and requesters: load each once.
      const reviewersByRoles = new Map<string, Promise<Reviewer[]>>();
      const requesters = new Map<string, Promise<RequesterFacts>>();
      for (const { request: stored, escalate_at } of due) {
        const request = upgradeRequest(stored);
        // Open requests escalate straight to the admins: they need no reviewers.
        const roles = request.required_roles;
        let reviewers = reviewersByRoles.get(roles.join("|"));
        if (!reviewers) {
          reviewers = roles.length > 0 ? routingReviewers(ctx.db, roles) : Promise.resolve([]);
          reviewersByRoles.set(roles.join("|"), reviewers);
        }
        let requester = requesters.get(request.created_by.key_id);
        if (!requester) {
          requester = requesterFacts(ctx.db, request.created_by.key_id);
          requesters.set(request.created_by.key_id, requester);
        }
        const t = escalateRequest(request, {
          now,
          reviewers: await reviewers,
          admins,
          requester: await requester,
        });
        if (!t) {
          // The row said due but the request has nothing left to escalate to: stop picking it up.
          await saveEscalation(ctx.db, request, escalate_at, null);
          continue;
        }
        const next = t.request.routing?.next_escalation_at ?? null;
        if (!(await saveEscalation(ctx.db, t.request, escalate_at, next))) continue;
        await ctx.appendAudit(
          t.audit,
          t.request.created_by.role === "agent" ? t.request.created_by.key_id : null,
        );
        ctx.changed(t.request.id);
      }
      return due.length;
    });
  }
}
