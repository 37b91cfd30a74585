import type { Executor } from "../repos/executor.ts";
import type { AccountsTable, InvitesTable } from "../storage/migrations/dashboard.ts";

export type AccountRecord = AccountsTable & { role: "admin" | "reviewer" };
export type InviteRecord = InvitesTable & { role: "admin" | "reviewer" };

export async function insertAccount(db: Executor, account: AccountRecord): Promise<void> {
  await db.insertInto("accounts").values(account).execute();
}

export async function findAccountByEmail(db: Executor, email: string): Promise<AccountRecord | undefined> {
  const row = await db.selectFrom("accounts").selectAll().where("email", "=", email).executeTakeFirst();
  return row as AccountRecord | undefined;
}

export async function getAccount(db: Executor, id: string): Promise<AccountRecord | undefined> {
  const row = await db.selectFrom("accounts").selectAll().where("id", "=", id).executeTakeFirst();
  return row as AccountRecord | undefined;
}

export async function listAccounts(db: Executor): Promise<AccountRecord[]> {
  return (await db
    .selectFrom("accounts")
    .selectAll()
    .orderBy("id")
    .limit(10_000)
    .execute()) as AccountRecord[];
}

export async function setPassword(db: Executor, id: string, passwordHash: string, at: string): Promise<void> {
  await db
    .updateTable("accounts")
    .set({ password_hash: passwordHash, password_set_at: at })
    .where("id", "=", id)
    .execute();
}

/** Upgrades a hash made with weaker parameters; only if the password has not changed meanwhile. */
export async function rehashPassword(db: Executor, id: string, from: string, to: string): Promise<void> {
  await db
    .updateTable("accounts")
    .set({ password_hash: to })
    .where("id", "=", id)
    .where("password_hash", "=", from)
    .execute();
}

export async function disableAccount(db: Executor, id: string, at: string): Promise<boolean> {
  const result = await db
    .updateTable("accounts")
    .set({ disabled_at: at })
    .where("id", "=", id)
    .where("disabled_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function enableAccount(db: Executor, id: string): Promise<void> {
  await db.updateTable("accounts").set({ disabled_at: null }).where("id", "=", id).execute();
}

export async function setAccountRole(db: Executor, id: string, role: AccountRecord["role"]): Promise<void> {
  await db.updateTable("accounts").set({ role }).where("id", "=", id).execute();
}

export async function insertInvite(db: Executor, invite: InviteRecord): Promise<void> {
  await db.insertInto("invites").values(invite).execute();
}

export async function findInviteByTokenHash(
  db: Executor,
  tokenHash: string,
): Promise<InviteRecord | undefined> {
  const row = await db
    .selectFrom("invites")
    .selectAll()
    .where("token_hash", "=", tokenHash)
    .executeTakeFirst();
  return row as InviteRecord | undefined;
}

export async function getInvite(db: Executor, id: string): Promise<InviteRecord | undefined> {
  const row = await db.selectFrom("invites").selectAll().where("id", "=", id).executeTakeFirst();
  return row as InviteRecord | undefined;
}

/** Invites not yet accepted, revoked or expired, newest first. */
export async function listOpenInvites(db: Executor, nowIso: string): Promise<InviteRecord[]> {
  const rows = await db
    .selectFrom("invites")
    .selectAll()
    .where("accepted_at", "is", null)
    .where("revoked_at", "is", null)
    .where("expires_at", ">", nowIso)
    .orderBy("id", "desc")
    .limit(1000)
    .execute();
  return rows as InviteRecord[];
}

/** Marks an invite used; false if it was used or revoked meanwhile (one use only). */
export async function markInviteAccepted(
  db: Executor,
  id: string,
  accountId: string,
  at: string,
): Promise<boolean> {
  const result = await db
    .updateTable("invites")
    .set({ accepted_at: at, account_id: accountId })
    .where("id", "=", id)
    .where("accepted_at", "is", null)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function revokeInvite(db: Executor, id: string, at: string): Promise<boolean> {
  const result = await db
    .updateTable("invites")
    .set({ revoked_at: at })
    .where("id", "=", id)
    .where("accepted_at", "is", null)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Open invites for an email are superseded when a newer one is created for it. */
export async function revokeOpenInvitesFor(db: Executor, email: string, at: string): Promise<void> {
  await db
    .updateTable("invites")
    .set({ revoked_at: at })
    .where("email", "=", email)
    .where("accepted_at", "is", null)
    .where("revoked_at", "is", null)
    .execute();
}
