import {
  type ApprovalRequirements,
  type ControlMap,
  controlMap,
  ForbiddenError,
  type Principal,
  type RequesterFacts,
  ValidationError,
  validateRequirements,
} from "@countersign/core";
import { getKey } from "../repos/keys-repo.ts";
import type { ServiceDeps } from "./deps.ts";
import { requesterFacts, routingReviewers } from "./routing-inputs.ts";

export interface ControlMapInput {
  approval_requirements: {
    required_roles?: string[];
    required_approvals?: number;
    require_distinct_roles?: boolean;
  };
  metadata?: Record<string, unknown>;
  /** Admins only: judge separation of duties as if this agent key were asking. */
  agent_key_id?: string;
}

/**
 * The Control Map endpoint's service: the same routing plan a request created now would get,
 * computed from the stored reviewers without writing anything. An agent asks as itself, so its own
 * owners are counted out exactly as they would be for its requests.
 */
export class RoutingService {
  private readonly deps: ServiceDeps;
  constructor(deps: ServiceDeps) {
    this.deps = deps;
  }

  async controlMap(by: Principal, input: ControlMapInput): Promise<ControlMap> {
    const db = this.deps.store.db;
    const asked = input.approval_requirements;
    const requirements: ApprovalRequirements = {
      required_roles: [...new Set(asked.required_roles ?? [])],
      required_approvals: asked.required_approvals ?? 1,
      require_distinct_roles: asked.require_distinct_roles ?? false,
    };
    validateRequirements(requirements);
    let requester: RequesterFacts | null = null;
    if (input.agent_key_id !== undefined) {
      if (by.role !== "admin") throw new ForbiddenError("only admins may ask on behalf of another agent key");
      const key = await getKey(db, input.agent_key_id);
      if (key?.role !== "agent") {
        const message = key ? "must be an agent key" : "no such key";
        throw new ValidationError(`agent_key_id: ${message}`, [{ path: "/agent_key_id", message }]);
      }
      requester = await requesterFacts(db, key.id);
    } else if (by.role === "agent") {
      requester = await requesterFacts(db, by.key_id);
    }
    const reviewers = await routingReviewers(db, requirements.required_roles);
    return controlMap(requirements, reviewers, { now: this.deps.clock.now(), requester });
  }
}
