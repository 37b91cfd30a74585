import {
  type Action,
  createAction,
  type NewActionInput,
  NotFoundError,
  type Principal,
} from "@countersign/core";
import { insertAction } from "../repos/actions-repo.ts";
import { getRequest } from "../repos/requests-repo.ts";
import type { ServiceDeps } from "./deps.ts";

export class ActionsService {
  private readonly deps: ServiceDeps;
  constructor(deps: ServiceDeps) {
    this.deps = deps;
  }

  async log(by: Principal, input: NewActionInput): Promise<Action> {
    return this.deps.store.write(async (ctx) => {
      let replyCorrelationId: string | undefined;
      if (input.in_reply_to?.type === "request") {
        const request = await getRequest(ctx.db, input.in_reply_to.id);
        if (!request || (by.role === "agent" && request.created_by.key_id !== by.key_id)) {
          throw new NotFoundError(`in_reply_to names no request ${input.in_reply_to.id} visible to this key`);
        }
        replyCorrelationId = request.correlation_id;
      }
      const { action, audit } = createAction(input, {
        id: this.deps.ids.next("act"),
        now: this.deps.clock.now(),
        by,
        ...(replyCorrelationId ? { replyCorrelationId } : {}),
      });
      await insertAction(ctx.db, action);
      await ctx.appendAudit(audit, by.role === "agent" ? by.key_id : null);
      ctx.changed(action.id);
      return action;
    });
  }
}
