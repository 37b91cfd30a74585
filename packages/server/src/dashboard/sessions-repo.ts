import type { Executor } from "../repos/executor.ts";
import { QueryTemplate } from "../repos/query-template.ts";
import type { SessionsTable } from "../storage/migrations/dashboard.ts";
import type { AccountRecord } from "./accounts-repo.ts";

export type SessionRecord = SessionsTable;

/** A session with what authenticating it needs: its account and whether the account's key is revoked. */
export interface SessionLookup {
  session: SessionRecord;
  account: AccountRecord;
  key_revoked_at: string | null;
}

export async function insertSession(db: Executor, session: SessionRecord): Promise<void> {
  await db.insertInto("sessions").values(session).execute();
}

// Runs on every cookie-authenticated call.
const byTokenHash = new QueryTemplate<"hash">((db, p) =>
  db
    .selectFrom("sessions")
    .innerJoin("accounts", "accounts.id", "sessions.account_id")
    .innerJoin("keys", "keys.id", "accounts.key_id")
    .select([
      "sessions.id as s_id",
      "sessions.account_id as s_account_id",
      "sessions.token_hash as s_token_hash",
      "sessions.created_at as s_created_at",
      "sessions.last_seen_at as s_last_seen_at",
      "sessions.expires_at as s_expires_at",
      "sessions.revoked_at as s_revoked_at",
      "sessions.ip as s_ip",
      "sessions.user_agent as s_user_agent",
      "accounts.id as a_id",
      "accounts.email as a_email",
      "accounts.name as a_name",
      "accounts.role as a_role",
      "accounts.key_id as a_key_id",
      "accounts.password_hash as a_password_hash",
      "accounts.password_set_at as a_password_set_at",
      "accounts.created_at as a_created_at",
      "accounts.created_by as a_created_by",
      "accounts.disabled_at as a_disabled_at",
      "keys.revoked_at as k_revoked_at",
    ])
    .where("sessions.token_hash", "=", p.hash),
);

type JoinedRow = Record<string, string | null>;

export async function findSessionByTokenHash(
  db: Executor,
  tokenHash: string,
): Promise<SessionLookup | undefined> {
  const [row] = await byTokenHash.execute<JoinedRow>(db, { hash: tokenHash });
  if (!row) return undefined;
  const pick = (prefix: string) =>
    Object.fromEntries(
      Object.entries(row)
        .filter(([k]) => k.startsWith(prefix))
        .map(([k, v]) => [k.slice(prefix.length), v]),
    );
  return {
    session: pick("s_") as unknown as SessionRecord,
    account: pick("a_") as unknown as AccountRecord,
    key_revoked_at: row.k_revoked_at ?? null,
  };
}

export async function getSession(db: Executor, id: string): Promise<SessionRecord | undefined> {
  return db.selectFrom("sessions").selectAll().where("id", "=", id).executeTakeFirst();
}

export async function touchSession(db: Executor, id: string, at: string): Promise<void> {
  await db.updateTable("sessions").set({ last_seen_at: at }).where("id", "=", id).execute();
}

export async function revokeSession(db: Executor, id: string, at: string): Promise<boolean> {
  const result = await db
    .updateTable("sessions")
    .set({ revoked_at: at })
    .where("id", "=", id)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Revokes every live session of an account; returns their ids. */
export async function revokeAccountSessions(db: Executor, accountId: string, at: string): Promise<string[]> {
  const live = await db
    .selectFrom("sessions")
    .select("id")
    .where("account_id", "=", accountId)
    .where("revoked_at", "is", null)
    .where("expires_at", ">", at)
    .execute();
  if (live.length === 0) return [];
  await db
    .updateTable("sessions")
    .set({ revoked_at: at })
    .where(
      "id",
      "in",
      live.map((s) => s.id),
    )
    .execute();
  return live.map((s) => s.id);
}

/** Sessions not revoked and not past their absolute expiry (idle expiry is checked by the caller). */
export async function listLiveSessions(
  db: Executor,
  nowIso: string,
  accountId?: string,
): Promise<Array<SessionRecord & { email: string }>> {
  let query = db
    .selectFrom("sessions")
    .innerJoin("accounts", "accounts.id", "sessions.account_id")
    .selectAll("sessions")
    .select("accounts.email as email")
    .where("sessions.revoked_at", "is", null)
    .where("sessions.expires_at", ">", nowIso)
    .orderBy("sessions.id", "desc")
    .limit(1000);
  if (accountId) query = query.where("sessions.account_id", "=", accountId);
  return query.execute();
}

/** Forgets sessions that ended long ago (they stay in the audit log). */
export async function deleteEndedSessions(db: Executor, beforeIso: string): Promise<void> {
  await db.deleteFrom("sessions").where("expires_at", "<", beforeIso).execute();
}
