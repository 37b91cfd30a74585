import { canonicalize } from "./canonical-json.ts";
import { sha256Hex } from "./hash.ts";

export const GENESIS_HASH = "0".repeat(64);

export type AuditKind =
  | "request.created"
  | "request.routed"
  | "review.recorded"
  | "request.approved"
  | "request.rejected"
  | "request.answered"
  | "request.cancelled"
  | "request.timed_out"
  | "action.logged"
  | "key.created"
  | "key.revoked"
  | (string & {});

/** Who caused an entry: a key (verified), or the system itself (expiry worker, policy). */
export interface AuditActor {
  type: "key" | "system";
  key_id?: string;
  name?: string;
  role?: string;
}

/** What the caller supplies; `seq`, `prev_hash` and `hash` are assigned when the entry is chained. */
export interface AuditDraft {
  at: string;
  kind: AuditKind;
  subject_id: string;
  correlation_id: string | null;
  actor: AuditActor;
  data: Record<string, unknown>;
}

export interface AuditEntry extends AuditDraft {
  seq: number;
  prev_hash: string;
  hash: string;
}

/** hash = SHA-256(prev_hash ‖ JCS(entry without hash)). */
export function hashEntry(entry: Omit<AuditEntry, "hash">): string {
  const body: Record<string, unknown> = {
    seq: entry.seq,
    at: entry.at,
    kind: entry.kind,
    subject_id: entry.subject_id,
    correlation_id: entry.correlation_id,
    actor: entry.actor,
    data: entry.data,
    prev_hash: entry.prev_hash,
  };
  return sha256Hex(entry.prev_hash + canonicalize(body));
}

export function chainEntry(head: { seq: number; hash: string }, draft: AuditDraft): AuditEntry {
  const unhashed = { ...draft, seq: head.seq + 1, prev_hash: head.hash };
  return { ...unhashed, hash: hashEntry(unhashed) };
}

export type ChainVerdict =
  | { ok: true; entries: number; head_hash: string }
  | { ok: false; entries: number; first_broken_seq: number; reason: string };

/**
 * Incremental verifier: feed entries in `seq` order, in as many pages as needed, then ask for the
 * verdict. It catches altered rows (hash mismatch), deletions and reordering (seq gap or prev_hash
 * that is not the previous entry's hash).
 */
export class ChainVerifier {
  private expectedSeq = 1;
  private previousHash = GENESIS_HASH;
  private count = 0;
  private broken: { seq: number; reason: string } | undefined;

  push(entry: AuditEntry): boolean {
    if (this.broken) return false;
    this.count++;
    if (entry.seq !== this.expectedSeq) {
      return this.fail(this.expectedSeq, `expected seq ${this.expectedSeq}, found ${entry.seq}`);
    }
    if (entry.prev_hash !== this.previousHash) {
      return this.fail(entry.seq, "prev_hash does not match the previous entry's hash");
    }
    if (hashEntry(entry) !== entry.hash) {
      return this.fail(entry.seq, "hash does not match the entry's contents");
    }
    this.expectedSeq++;
    this.previousHash = entry.hash;
    return true;
  }

  verdict(): ChainVerdict {
    if (this.broken) {
      return {
        ok: false,
        entries: this.count,
        first_broken_seq: this.broken.seq,
        reason: this.broken.reason,
      };
    }
    return { ok: true, entries: this.count, head_hash: this.previousHash };
  }

  private fail(seq: number, reason: string): false {
    this.broken = { seq, reason };
    return false;
  }
}

export function verifyChain(entries: Iterable<AuditEntry>): ChainVerdict {
  const verifier = new ChainVerifier();
  for (const entry of entries) if (!verifier.push(entry)) break;
  return verifier.verdict();
}
