import { type ApprovalRequest, ConflictError, NotFoundError, type Principal } from "@countersign/core";
import type { Services } from "../http/services.ts";
import { findRequestByExternalId } from "../repos/requests-repo.ts";
import { externalId, type Kind } from "./mapping.ts";

const NOUN: Record<Kind, string> = { function_call: "function call", human_contact: "contact request" };

/**
 * The request behind a HumanLayer call id, as `by` may see it (404 otherwise).
 *
 * An agent finds its own calls by (key, external id), which is indexed. A reviewer or an admin did
 * not create the call, so the id is looked up whoever created it; two agents may have chosen the
 * same call id, and then the id alone names no one call (409: decide it through /v1 by request id).
 */
export async function findCall(
  services: Services,
  by: Principal,
  kind: Kind,
  callId: string,
): Promise<ApprovalRequest> {
  const external = externalId(kind, callId);
  let found: ApprovalRequest | undefined;
  if (by.role === "agent") {
    found = await findRequestByExternalId(services.store.db, by.key_id, external);
  } else {
    const rows = await services.store.db
      .selectFrom("requests")
      .select("doc")
      .where("external_request_id", "=", external)
      .limit(2)
      .execute();
    if (rows.length > 1) {
      throw new ConflictError(
        "ambiguous_call_id",
        `several agents used ${NOUN[kind]} id ${JSON.stringify(callId)}; decide it by request id through /v1/requests`,
      );
    }
    found = rows[0] ? (JSON.parse(rows[0].doc) as ApprovalRequest) : undefined;
  }
  if (!found) throw new NotFoundError(`no ${NOUN[kind]} ${callId}`);
  // Read through the service: its visibility rules and its view of the request apply.
  return services.requests.get(by, found.id);
}
