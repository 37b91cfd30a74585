import { describe, expect, it } from "vitest";
import {
  type AuditDraft,
  type AuditEntry,
  ChainVerifier,
  chainEntry,
  GENESIS_HASH,
  verifyChain,
} from "./audit.ts";

function build(n: number): AuditEntry[] {
  const entries: AuditEntry[] = [];
  let head = { seq: 0, hash: GENESIS_HASH };
  for (let i = 0; i < n; i++) {
    const draft: AuditDraft = {
      at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
      kind: "request.created",
      subject_id: `req_${i}`,
      correlation_id: "c",
      actor: { type: "key", key_id: "key_1", role: "agent" },
      data: { i },
    };
    const entry = chainEntry(head, draft);
    entries.push(entry);
    head = entry;
  }
  return entries;
}

describe("audit hash chain", () => {
  it("links each entry to the previous one from the genesis hash", () => {
    const entries = build(5);
    expect(entries[0]?.prev_hash).toBe(GENESIS_HASH);
    expect(entries[1]?.prev_hash).toBe(entries[0]?.hash);
    expect(verifyChain(entries)).toEqual({ ok: true, entries: 5, head_hash: entries[4]?.hash });
  });

  it("detects an altered field, a deletion and a reordering", () => {
    const altered = build(5);
    altered[2] = { ...(altered[2] as AuditEntry), data: { i: 99 } };
    expect(verifyChain(altered)).toMatchObject({ ok: false, first_broken_seq: 3 });

    const deleted = build(5).filter((e) => e.seq !== 3);
    expect(verifyChain(deleted)).toMatchObject({ ok: false, first_broken_seq: 3 });

    const swapped = build(5);
    const [x, y] = [swapped[1] as AuditEntry, swapped[2] as AuditEntry];
    swapped[1] = { ...y, seq: 2 };
    swapped[2] = { ...x, seq: 3 };
    expect(verifyChain(swapped)).toMatchObject({ ok: false, first_broken_seq: 2 });
  });

  it("verifies incrementally across pages", () => {
    const entries = build(10);
    const v = new ChainVerifier();
    for (const e of entries.slice(0, 4)) v.push(e);
    for (const e of entries.slice(4)) v.push(e);
    expect(v.verdict()).toMatchObject({ ok: true, entries: 10 });
  });
});
