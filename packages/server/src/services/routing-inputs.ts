import type { AdminContact, RequesterFacts, Reviewer } from "@countersign/core";
import type { Executor } from "../repos/executor.ts";
import { getKey, listKeys } from "../repos/keys-repo.ts";
import {
  findReviewerByKeyId,
  listReviewersByKeyIds,
  listReviewersCovering,
} from "../repos/reviewers-repo.ts";

/** Loads what the pure routing functions need, from inside a transaction or the read connection. */

/** The creating key and the admin key that issued it (for separation of duties). */
export async function requesterFacts(db: Executor, createdByKeyId: string): Promise<RequesterFacts> {
  const key = await getKey(db, createdByKeyId);
  return { created_by_key_id: createdByKeyId, creator_issued_by: key?.created_by ?? null };
}

/** Reviewers a request with these roles can use (everyone when there are none). */
export function routingReviewers(db: Executor, roles: readonly string[]): Promise<Reviewer[]> {
  return listReviewersCovering(db, roles);
}

/** The person behind a key, if a reviewer record links it. */
export async function reviewerOfKey(db: Executor, keyId: string): Promise<Reviewer | null> {
  return (await findReviewerByKeyId(db, keyId)) ?? null;
}

/** Active admin keys, with the reviewer record linked to each, for the last escalation tier. */
export async function adminContacts(db: Executor): Promise<AdminContact[]> {
  const admins = (await listKeys(db, { includeRevoked: false })).filter((k) => k.role === "admin");
  const linked = await listReviewersByKeyIds(
    db,
    admins.map((a) => a.id),
  );
  const byKey = new Map(linked.map((r) => [r.key_id, r]));
  return admins.map((a) => {
    const person = byKey.get(a.id);
    return { key_id: a.id, name: person?.name ?? a.name, reviewer_id: person?.id ?? null };
  });
}
