import {
  type Action,
  type ApprovalRequest,
  type AuditEntry,
  type ChainVerdict,
  ChainVerifier,
  canSeeRequest,
  type Principal,
} from "@countersign/core";
import { listActionsByCorrelation } from "../repos/actions-repo.ts";
import { getAuditHead, listAudit, listAuditByCorrelation } from "../repos/audit-repo.ts";
import { getRequest, listRequestsByCorrelation } from "../repos/requests-repo.ts";
import type { Store } from "../storage/store.ts";
import { auditEntryViewFor } from "../webhooks/agent-view.ts";
import { actionRequestIds, RequestLinks, requestViewFor } from "./request-visibility.ts";
import { reviewerOfKey } from "./routing-inputs.ts";

export interface CaseView {
  correlation_id: string;
  requests: ApprovalRequest[];
  actions: Action[];
  /** Every audit entry of the case in chain order: governed calls, requests, reviews, actions, deliveries. */
  timeline: AuditEntry[];
}

export class AuditService {
  private readonly store: Store;
  constructor(store: Store) {
    this.store = store;
  }

  async list(
    afterSeq: number,
    limit: number,
  ): Promise<{ data: AuditEntry[]; next_after_seq: number | null }> {
    const rows = await listAudit(this.store.db, afterSeq, limit + 1);
    const data = rows.slice(0, limit);
    const last = data[data.length - 1];
    return { data, next_after_seq: rows.length > limit && last ? last.seq : null };
  }

  /**
   * A case as `by` may see it: agents see only the parts they own; reviewers see neither the
   * requests they may not see nor anything related to them (see request-visibility.ts): the
   * entries about them, actions replying to them, webhook deliveries of their events.
   */
  async getCase(by: Principal, correlationId: string): Promise<CaseView> {
    const db = this.store.db;
    const agentScope = by.role === "agent" ? by.key_id : undefined;
    const [requests, actions, timeline] = await Promise.all([
      listRequestsByCorrelation(db, correlationId),
      listActionsByCorrelation(db, correlationId),
      listAuditByCorrelation(db, correlationId, agentScope),
    ]);
    const mine = <T extends { created_by: { key_id: string } }>(items: T[]) =>
      agentScope ? items.filter((i) => i.created_by.key_id === agentScope) : items;
    if (by.role === "admin") return { correlation_id: correlationId, requests, actions, timeline };

    const links = new RequestLinks(db, timeline);
    const related = new Map<AuditEntry, string[] | null>();
    for (const entry of timeline) related.set(entry, await links.of(entry));
    // Requests of other cases can be related too (an action may reply to a request elsewhere).
    const known = new Map(requests.map((r) => [r.id, r]));
    const named = [...related.values(), ...actions.map(actionRequestIds)].flatMap((ids) => ids ?? []);
    for (const id of new Set(named)) {
      if (known.has(id)) continue;
      const found = await getRequest(db, id);
      if (found) known.set(id, found);
    }
    // Reviewers see a request only where they may see the request itself (its roles).
    const reviewer = by.role === "reviewer" ? await reviewerOfKey(db, by.key_id) : null;
    const visible = (id: string) => {
      const request = known.get(id);
      return request !== undefined && canSeeRequest(request, by, reviewer);
    };
    return {
      correlation_id: correlationId,
      requests: mine(requests)
        .filter((r) => visible(r.id))
        .map((r) => requestViewFor(by, r)),
      actions: mine(actions).filter((a) => actionRequestIds(a).every(visible)),
      timeline: timeline
        .filter((e) => related.get(e)?.every(visible) ?? false)
        .map((e) => auditEntryViewFor(by, e)),
    };
  }

  /**
   * Recomputes the whole chain page by page and checks that its last entry is the recorded head, so
   * altered, deleted, reordered and truncated entries are all caught.
   */
  async verify(pageSize = 2000): Promise<ChainVerdict> {
    const verifier = new ChainVerifier();
    let after = 0;
    for (;;) {
      const page = await listAudit(this.store.db, after, pageSize);
      for (const entry of page) if (!verifier.push(entry)) return verifier.verdict();
      const last = page[page.length - 1];
      if (!last || page.length < pageSize) break;
      after = last.seq;
    }
    const verdict = verifier.verdict();
    if (!verdict.ok) return verdict;
    const head = await getAuditHead(this.store.db);
    if (head.seq !== verdict.entries || head.hash !== verdict.head_hash) {
      return {
        ok: false,
        entries: verdict.entries,
        first_broken_seq: Math.min(head.seq, verdict.entries + 1),
        reason: `the chain ends at seq ${verdict.entries} but the recorded head is seq ${head.seq}`,
      };
    }
    return verdict;
  }
}
