// Deliveries as admins see them: paged listing, one delivery with its attempts, and redrive of a
// dead-lettered or aborted delivery. Sending them is the delivery worker's job (worker.ts).

import { ConflictError, NotFoundError, type Principal } from "@countersign/core";
import { type DeliveryFilter, getDelivery, getEndpoint, listDeliveries, updateDelivery } from "./repo.ts";
import { type DeliveryResource, loadDeliveryResources } from "./resources.ts";
import { auditDraft, type WebhooksState } from "./state.ts";

export class WebhookDeliveries {
  private readonly state: WebhooksState;

  constructor(state: WebhooksState) {
    this.state = state;
  }

  async list(
    filter: Omit<DeliveryFilter, "limit"> & { limit: number },
  ): Promise<{ data: DeliveryResource[]; next_cursor: string | null }> {
    const { store } = this.state.deps;
    const rows = await listDeliveries(store.db, { ...filter, limit: filter.limit + 1 });
    const page = rows.slice(0, filter.limit);
    const last = page[page.length - 1];
    return {
      data: await loadDeliveryResources(store.db, page),
      next_cursor: rows.length > filter.limit && last ? last.id : null,
    };
  }

  async get(id: string): Promise<DeliveryResource> {
    const { store } = this.state.deps;
    const row = await getDelivery(store.db, id);
    if (!row) throw new NotFoundError(`no webhook delivery ${id}`);
    const [resource] = await loadDeliveryResources(store.db, [row]);
    if (!resource) throw new NotFoundError(`no webhook delivery ${id}`);
    return resource;
  }

  /**
   * Sends a dead-lettered (or aborted) delivery again, from the start of the retry schedule, with
   * the same message id and body. Every earlier attempt stays in its history.
   */
  async redrive(id: string, by: Principal): Promise<DeliveryResource> {
    const { deps } = this.state;
    const at = new Date(deps.clock.now()).toISOString();
    await deps.store.write(async (ctx) => {
      const row = await getDelivery(ctx.db, id, { forUpdate: ctx.dialect === "postgres" });
      if (!row) throw new NotFoundError(`no webhook delivery ${id}`);
      if (row.status !== "dead" && row.status !== "aborted") {
        throw new ConflictError(
          "not_redrivable",
          `delivery ${id} is ${row.status}; only dead-lettered or aborted deliveries can be redriven`,
        );
      }
      if (row.endpoint_id) {
        const endpoint = await getEndpoint(ctx.db, row.endpoint_id);
        if (endpoint?.active !== 1) {
          throw new ConflictError("endpoint_deleted", `the endpoint ${row.endpoint_id} has been deleted`);
        }
      }
      await updateDelivery(ctx.db, id, {
        status: "pending",
        cycle_attempts: 0,
        next_attempt_at: at,
        locked_until: null,
        lease_token: null,
        dead_lettered_at: null,
        updated_at: at,
      });
      await ctx.appendAudit(
        [
          {
            ...auditDraft(at, "webhook.redriven", id, by, {
              message_id: row.message_id,
              event_type: row.event_type,
              previous_status: row.status,
            }),
            correlation_id: row.correlation_id,
          },
        ],
        row.owner_key_id,
      );
      ctx.afterCommit(() => this.state.pokeWorker());
    });
    return this.get(id);
  }
}
