import type { Executor } from "./executor.ts";

/** The one use of an approval token: its `jti` is the primary key, so a token is consumed once. */
export interface TokenUse {
  jti: string;
  request_id: string;
  consumed_at: string;
  /** The key that consumed it. */
  consumed_by: string;
  executed_args_hash: string;
}

/** Fails with a unique violation if the token was already consumed. */
export async function insertTokenUse(db: Executor, use: TokenUse): Promise<void> {
  await db.insertInto("token_uses").values(use).execute();
}

export async function getTokenUse(db: Executor, jti: string): Promise<TokenUse | undefined> {
  return db.selectFrom("token_uses").selectAll().where("jti", "=", jti).executeTakeFirst();
}
