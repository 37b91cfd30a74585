import type { AuditEntry } from "@countersign/core";
import type { Executor } from "./executor.ts";

interface AuditRow {
  seq: number;
  at: string;
  kind: string;
  subject_id: string;
  correlation_id: string | null;
  actor: string;
  data: string;
  prev_hash: string;
  hash: string;
}

function fromRow(row: AuditRow): AuditEntry {
  return {
    seq: Number(row.seq),
    at: row.at,
    kind: row.kind,
    subject_id: row.subject_id,
    correlation_id: row.correlation_id,
    actor: JSON.parse(row.actor),
    data: JSON.parse(row.data),
    prev_hash: row.prev_hash,
    hash: row.hash,
  };
}

const COLUMNS = [
  "seq",
  "at",
  "kind",
  "subject_id",
  "correlation_id",
  "actor",
  "data",
  "prev_hash",
  "hash",
] as const;

export async function listAudit(db: Executor, afterSeq: number, limit: number): Promise<AuditEntry[]> {
  const rows = await db
    .selectFrom("audit")
    .select(COLUMNS)
    .where("seq", ">", afterSeq)
    .orderBy("seq")
    .limit(limit)
    .execute();
  return rows.map(fromRow);
}

export async function listAuditByCorrelation(
  db: Executor,
  correlationId: string,
  ownerKeyId?: string,
): Promise<AuditEntry[]> {
  let query = db.selectFrom("audit").select(COLUMNS).where("correlation_id", "=", correlationId);
  if (ownerKeyId !== undefined) query = query.where("owner_key_id", "=", ownerKeyId);
  const rows = await query.orderBy("seq").limit(5000).execute();
  return rows.map(fromRow);
}

export async function getAuditHead(db: Executor): Promise<{ seq: number; hash: string }> {
  const row = await db
    .selectFrom("audit_head")
    .select(["seq", "hash"])
    .where("id", "=", 1)
    .executeTakeFirstOrThrow();
  return { seq: Number(row.seq), hash: row.hash };
}
