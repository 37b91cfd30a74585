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
import { listRequestsByCorrelation } from "../repos/requests-repo.ts";
import type { Store } from "../storage/store.ts";
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

  /** A case as `by` may see it: agents see only the parts they own. */
  async getCase(by: Principal, correlationId: string): Promise<CaseView> {
    const agentScope = by.role === "agent" ? by.key_id : undefined;
    const [requests, actions, timeline] = await Promise.all([
      listRequestsByCorrelation(this.store.db, correlationId),
      listActionsByCorrelation(this.store.db, correlationId),
      listAuditByCorrelation(this.store.db, correlationId, agentScope),
    ]);
    const mine = <T extends { created_by: { key_id: string } }>(items: T[]) =>
      agentScope ? items.filter((i) => i.created_by.key_id === agentScope) : items;
    // Reviewers see a case's requests only where they may see the request itself (its roles).
    const reviewer = by.role === "reviewer" ? await reviewerOfKey(this.store.db, by.key_id) : null;
    const hidden = new Set(requests.filter((r) => !canSeeRequest(r, by, reviewer)).map((r) => r.id));
    const shown = timeline.filter(
      (e) => !hidden.has(e.subject_id) && !hidden.has(String(e.data.request_id ?? "")),
    );
    return {
      correlation_id: correlationId,
      requests: mine(requests).filter((r) => !hidden.has(r.id)),
      actions: mine(actions),
      timeline: shown,
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
