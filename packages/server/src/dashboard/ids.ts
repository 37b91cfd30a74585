import type { IdGenerator } from "@countersign/core";

export type DashboardIdPrefix = "usr" | "inv" | "ses";

/**
 * Ids for accounts, invites and sessions. Core's generator knows a closed set of prefixes; its ids are
 * `<prefix>_<26 time-sortable characters>`, so the body of a generated id is reused under our prefix
 * and the ids keep their time order.
 */
export function newId(ids: IdGenerator, prefix: DashboardIdPrefix): string {
  const generated = ids.next("key");
  return `${prefix}_${generated.slice(generated.indexOf("_") + 1)}`;
}
