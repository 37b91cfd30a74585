import { keyHint, type Reviewer, type Shift } from "@countersign/core";
import { call } from "./http-client.ts";

/** Test helpers for reviewer records, through the real API. */

export const ALWAYS_ON: Shift[] = [
  { days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], start: "00:00", end: "24:00" },
];

interface Server {
  url: string;
  adminKey: string;
}

/** The id of the key with this secret (matched by its hint; refuses to guess if two keys share one). */
export async function keyIdOf(s: Server, secret: string): Promise<string> {
  const keys = await call<{ data: Array<{ id: string; hint: string }> }>(s.url, "GET", "/v1/keys", {
    key: s.adminKey,
  });
  const matches = keys.body.data.filter((k) => k.hint === keyHint(secret));
  if (matches.length !== 1 || !matches[0]) throw new Error(`cannot identify the key ${keyHint(secret)}`);
  return matches[0].id;
}

/** Creates a reviewer record (on shift at all times unless told otherwise), linked to `key` if given. */
export async function addReviewer(
  s: Server,
  fields: { key?: string; name?: string; roles?: string[] } & Record<string, unknown>,
): Promise<Reviewer> {
  const { key, ...rest } = fields;
  const body = {
    name: "reviewer",
    roles: [],
    timezone: "UTC",
    shifts: ALWAYS_ON,
    ...rest,
    ...(key ? { key_id: await keyIdOf(s, key) } : {}),
  };
  const res = await call<Reviewer>(s.url, "POST", "/v1/reviewers", { key: s.adminKey, body });
  if (res.status !== 201)
    throw new Error(`creating a reviewer failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export interface AuditRow {
  seq: number;
  kind: string;
  subject_id: string;
  actor: { type: string; name?: string; key_id?: string };
  data: Record<string, unknown>;
}

/** Every audit entry (oldest first), or those about one subject. */
export async function auditEntries(s: Server, subjectId?: string): Promise<AuditRow[]> {
  const out: AuditRow[] = [];
  let after = 0;
  for (;;) {
    const page = await call<{ data: AuditRow[]; next_after_seq: number | null }>(
      s.url,
      "GET",
      `/v1/audit?after_seq=${after}&limit=1000`,
      { key: s.adminKey },
    );
    out.push(...page.body.data);
    if (page.body.next_after_seq === null) break;
    after = page.body.next_after_seq;
  }
  return subjectId ? out.filter((e) => e.subject_id === subjectId) : out;
}
