import { parseSigningKeyRecord, type SigningKeyRecord } from "@countersign/core";
import type { Executor } from "./executor.ts";

/** A stored signing key before its record is parsed (parsing imports and checks the private key). */
export interface SigningKeyRow {
  kid: string;
  created_at: string;
  retired_at: string | null;
  record: string;
}

/**
 * The key a row holds. The `retired_at` column is the truth: it is what rotation updates under
 * `retired_at is null`, so the copy inside the JSON record can never contradict it.
 */
export function signingKeyFromRow(row: SigningKeyRow): SigningKeyRecord {
  const record: unknown = JSON.parse(row.record);
  const withColumn =
    typeof record === "object" && record !== null ? { ...record, retired_at: row.retired_at } : record;
  return parseSigningKeyRecord(withColumn);
}

/** Every stored key, oldest first. Keys are never deleted, so this only grows by one per rotation. */
export async function listSigningKeyRows(db: Executor): Promise<SigningKeyRow[]> {
  return db.selectFrom("signing_keys").selectAll().orderBy("created_at").orderBy("kid").execute();
}

export async function signingKeyExists(db: Executor, kid: string): Promise<boolean> {
  const row = await db.selectFrom("signing_keys").select("kid").where("kid", "=", kid).executeTakeFirst();
  return row !== undefined;
}

export async function insertSigningKey(db: Executor, key: SigningKeyRecord): Promise<void> {
  await db
    .insertInto("signing_keys")
    .values({
      kid: key.kid,
      created_at: key.created_at,
      retired_at: key.retired_at,
      record: JSON.stringify(key),
    })
    .execute();
}

/** Stores the retirement of a key that was active; false if it was already retired. */
export async function retireSigningKeyRow(db: Executor, retired: SigningKeyRecord): Promise<boolean> {
  const result = await db
    .updateTable("signing_keys")
    .set({ retired_at: retired.retired_at, record: JSON.stringify(retired) })
    .where("kid", "=", retired.kid)
    .where("retired_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
