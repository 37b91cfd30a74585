import {
  type PublishedSigningKey,
  parsePublishedSigningKey,
  parseSigningKeyRecord,
  SigningKeyError,
  type SigningKeyRecord,
} from "@countersign/core";
import type { SecretBox } from "../webhooks/secrets.ts";
import type { Executor } from "./executor.ts";

/** A stored signing key before its record is parsed (parsing imports and checks the private key). */
export interface SigningKeyRow {
  kid: string;
  created_at: string;
  retired_at: string | null;
  record: string;
}

/**
 * The JSON a row stores: the record with its private JWK sealed in the secret box under the kid, so
 * a copy of the database alone cannot sign. The public parts stay readable for the JWKS and audits.
 */
interface StoredSigningKey {
  kid: string;
  public_jwk: SigningKeyRecord["public_jwk"];
  created_at: string;
  retired_at: string | null;
  /** `cs1.…` envelope of the private JWK's JSON (see webhooks/secrets.ts). */
  sealed_private_jwk: string;
}

/** The additional data a key's private half is sealed with: it opens only under the same kid. */
export function signingKeyAad(kid: string): string {
  return `signing_keys:${kid}`;
}

function storedRecord(key: SigningKeyRecord, box: SecretBox): string {
  const stored: StoredSigningKey = {
    kid: key.kid,
    public_jwk: key.public_jwk,
    created_at: key.created_at,
    retired_at: key.retired_at,
    sealed_private_jwk: box.seal(JSON.stringify(key.private_jwk), signingKeyAad(key.kid)),
  };
  return JSON.stringify(stored);
}

/** Whether a row still holds its private key in plain text, as rows written before sealing do. */
export function isPlaintextSigningKeyRow(row: SigningKeyRow): boolean {
  const record: unknown = JSON.parse(row.record);
  return typeof record !== "object" || record === null || !("sealed_private_jwk" in record);
}

/**
 * The key a row holds, sealed or (written by an earlier version) plain. The `retired_at` column is
 * the truth: it is what rotation updates under `retired_at is null`, so the copy inside the JSON
 * record can never contradict it.
 */
export function signingKeyFromRow(row: SigningKeyRow, box: SecretBox): SigningKeyRecord {
  const record: unknown = JSON.parse(row.record);
  if (typeof record !== "object" || record === null) return parseSigningKeyRecord(record);
  const { sealed_private_jwk: sealed, ...rest } = record as Record<string, unknown>;
  const withColumn: Record<string, unknown> = { ...rest, retired_at: row.retired_at };
  if (sealed !== undefined) {
    if (typeof sealed !== "string") {
      throw new SigningKeyError(`signing key ${row.kid}: sealed_private_jwk is not a sealed value`);
    }
    try {
      withColumn.private_jwk = JSON.parse(box.open(sealed, signingKeyAad(row.kid)));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new SigningKeyError(`signing key ${row.kid}: its private key cannot be opened: ${reason}`);
    }
  }
  return parseSigningKeyRecord(withColumn);
}

/** The public parts of a row's key, without opening its private half (what a retired key needs). */
export function publishedKeyFromRow(row: SigningKeyRow): PublishedSigningKey {
  const record: unknown = JSON.parse(row.record);
  if (typeof record !== "object" || record === null) return parsePublishedSigningKey(record);
  return parsePublishedSigningKey({ ...record, retired_at: row.retired_at });
}

/**
 * Retires a key whose private half cannot be opened any more, leaving its record as it is (it
 * cannot be sealed again without the private half); false if it was already retired.
 */
export async function retireUnreadableSigningKeyRow(db: Executor, kid: string, at: string): Promise<boolean> {
  const result = await db
    .updateTable("signing_keys")
    .set({ retired_at: at })
    .where("kid", "=", kid)
    .where("retired_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Every stored key, oldest first. Keys are never deleted, so this only grows by one per rotation. */
export async function listSigningKeyRows(db: Executor): Promise<SigningKeyRow[]> {
  return db.selectFrom("signing_keys").selectAll().orderBy("created_at").orderBy("kid").execute();
}

export async function signingKeyExists(db: Executor, kid: string): Promise<boolean> {
  const row = await db.selectFrom("signing_keys").select("kid").where("kid", "=", kid).executeTakeFirst();
  return row !== undefined;
}

export async function insertSigningKey(db: Executor, key: SigningKeyRecord, box: SecretBox): Promise<void> {
  await db
    .insertInto("signing_keys")
    .values({
      kid: key.kid,
      created_at: key.created_at,
      retired_at: key.retired_at,
      record: storedRecord(key, box),
    })
    .execute();
}

/** Stores the retirement of a key that was active; false if it was already retired. */
export async function retireSigningKeyRow(
  db: Executor,
  retired: SigningKeyRecord,
  box: SecretBox,
): Promise<boolean> {
  const result = await db
    .updateTable("signing_keys")
    .set({ retired_at: retired.retired_at, record: storedRecord(retired, box) })
    .where("kid", "=", retired.kid)
    .where("retired_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Replaces a plaintext row's record with the sealed form; false if it was sealed meanwhile. */
export async function sealSigningKeyRow(
  db: Executor,
  row: SigningKeyRow,
  key: SigningKeyRecord,
  box: SecretBox,
): Promise<boolean> {
  const result = await db
    .updateTable("signing_keys")
    .set({ record: storedRecord(key, box) })
    .where("kid", "=", row.kid)
    .where("record", "=", row.record)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
