import type { Executor } from "./executor.ts";

export async function getSetting(db: Executor, name: string): Promise<string | undefined> {
  const row = await db.selectFrom("settings").select("value").where("name", "=", name).executeTakeFirst();
  return row?.value;
}

export async function putSetting(db: Executor, name: string, value: string, at: string): Promise<void> {
  await db
    .insertInto("settings")
    .values({ name, value, updated_at: at })
    .onConflict((oc) => oc.column("name").doUpdateSet({ value, updated_at: at }))
    .execute();
}
