import type { Role } from "@countersign/core";
import type { Executor } from "./executor.ts";
import { QueryTemplate } from "./query-template.ts";

export interface KeyRecord {
  id: string;
  name: string;
  role: Role;
  secret_hash: string;
  hint: string;
  created_at: string;
  created_by: string | null;
  revoked_at: string | null;
}

export async function insertKey(db: Executor, key: KeyRecord): Promise<void> {
  await db.insertInto("keys").values(key).execute();
}

// Runs on every authenticated call.
const findBySecretHash = new QueryTemplate<"hash">((db, p) =>
  db.selectFrom("keys").selectAll().where("secret_hash", "=", p.hash),
);

export async function findKeyBySecretHash(db: Executor, secretHash: string): Promise<KeyRecord | undefined> {
  const rows = await findBySecretHash.execute<KeyRecord>(db, { hash: secretHash });
  return rows[0];
}

export async function getKey(db: Executor, id: string): Promise<KeyRecord | undefined> {
  const row = await db.selectFrom("keys").selectAll().where("id", "=", id).executeTakeFirst();
  return row as KeyRecord | undefined;
}

export async function listKeys(db: Executor, options: { includeRevoked: boolean }): Promise<KeyRecord[]> {
  let query = db.selectFrom("keys").selectAll().orderBy("id");
  if (!options.includeRevoked) query = query.where("revoked_at", "is", null);
  return (await query.execute()) as KeyRecord[];
}

export async function revokeKey(db: Executor, id: string, at: string): Promise<boolean> {
  const result = await db
    .updateTable("keys")
    .set({ revoked_at: at })
    .where("id", "=", id)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Makes a revoked key active again (dashboard accounts re-enabled); false if it was not revoked. */
export async function restoreKey(db: Executor, id: string): Promise<boolean> {
  const result = await db
    .updateTable("keys")
    .set({ revoked_at: null })
    .where("id", "=", id)
    .where("revoked_at", "is not", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function setKeyRole(db: Executor, id: string, role: KeyRecord["role"]): Promise<void> {
  await db.updateTable("keys").set({ role }).where("id", "=", id).execute();
}

export async function countActiveAdmins(db: Executor): Promise<number> {
  const row = await db
    .selectFrom("keys")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("role", "=", "admin")
    .where("revoked_at", "is", null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
