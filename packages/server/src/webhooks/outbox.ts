import { type ApprovalRequest, type AuditEntry, type IdGenerator, ValidationError } from "@countersign/core";
import { getRequest } from "../repos/requests-repo.ts";
import type { AuditListener, WriteContext } from "../storage/store.ts";
import { CALLBACK_EVENT_TYPES, type EventType, eventTypeOf, messageIdOf } from "./events.ts";
import {
  getDelivery,
  insertDelivery,
  insertMessage,
  listSubscriptions,
  requestCallbackUrl,
  type Subscription,
} from "./repo.ts";
import { loadDeliveryResources } from "./resources.ts";
import { wdb } from "./schema.ts";
import { type OutboundPolicy, OutboundRefusedError } from "./ssrf.ts";

interface Target {
  key: string;
  kind: "endpoint" | "callback";
  endpointId: string | null;
  url: string;
}

interface Loaded {
  data: unknown;
  ownerKeyId: string | null;
  callbackUrl: string | null;
}

export interface OutboxOptions {
  ids: IdGenerator;
  now: () => number;
  /**
   * The SSRF policy agents' callback URLs are held to (its allow-list is known only once the
   * server is configured).
   */
  callbackPolicy: () => OutboundPolicy;
  /** Delay of the first attempt (the retry schedule's first entry), in ms. */
  firstDelayMs: () => number;
  /** Called after a unit that enqueued deliveries commits: wakes the delivery worker. */
  onCommitted: () => void;
}

/**
 * The transactional outbox. Registered as an audit listener, it runs inside the transaction that
 * appends each audit entry, so the message and its delivery rows commit (or roll back) with the
 * change itself: a decision is never committed without its callback scheduled, and no callback is
 * scheduled for a change that rolled back.
 */
export class Outbox {
  private readonly options: OutboxOptions;
  /** Subscriptions read once per (shared, group-commit) transaction; see `invalidate`. */
  private readonly subscriptions = new WeakMap<object, Promise<Subscription[]>>();

  constructor(options: OutboxOptions) {
    this.options = options;
  }

  readonly listener: AuditListener = async (ctx, entries) => {
    let enqueued = false;
    for (const entry of entries) {
      const type = eventTypeOf(entry);
      if (!type) continue;
      if (await this.enqueue(ctx, entry, type)) enqueued = true;
    }
    if (enqueued) ctx.afterCommit(this.options.onCommitted);
  };

  /**
   * Forget the subscriptions read in this transaction (an endpoint was just added or removed in it),
   * so later units of the same shared commit see the change.
   */
  invalidate(ctx: WriteContext): void {
    this.subscriptions.delete(ctx.db);
  }

  private subscriptionsIn(ctx: WriteContext): Promise<Subscription[]> {
    let found = this.subscriptions.get(ctx.db);
    if (!found) {
      found = listSubscriptions(ctx.db);
      this.subscriptions.set(ctx.db, found);
      // A failed read must not be remembered for the rest of the transaction.
      found.catch(() => this.subscriptions.delete(ctx.db));
    }
    return found;
  }

  private async enqueue(ctx: WriteContext, entry: AuditEntry, type: EventType): Promise<boolean> {
    const endpoints = (await this.subscriptionsIn(ctx)).filter((s) => s.events.includes(type));
    if (endpoints.length === 0) {
      // The common case, on the hot path: no subscriber, so only the request's callback URL matters,
      // and only for the events a callback receives (its URL was checked when the request was made).
      if (!CALLBACK_EVENT_TYPES.has(type)) return false;
      const callbackUrl = await requestCallbackUrl(ctx.db, ctx.dialect, entry.subject_id);
      if (!callbackUrl) return false;
    }

    const loaded = await this.load(ctx, entry, type);
    if (type === "request.created" && loaded.callbackUrl) this.checkCallbackUrl(loaded.callbackUrl);

    const targets: Target[] = endpoints.map((e) => ({
      key: e.id,
      kind: "endpoint",
      endpointId: e.id,
      url: e.url,
    }));
    if (loaded.callbackUrl && CALLBACK_EVENT_TYPES.has(type)) {
      targets.push({ key: "callback", kind: "callback", endpointId: null, url: loaded.callbackUrl });
    }
    if (targets.length === 0) return false;

    const messageId = messageIdOf(entry);
    const now = this.options.now();
    const at = new Date(now).toISOString();
    const firstAttemptAt = new Date(now + this.options.firstDelayMs()).toISOString();
    await insertMessage(ctx.db, {
      id: messageId,
      event_type: type,
      audit_seq: entry.seq,
      subject_id: entry.subject_id,
      correlation_id: entry.correlation_id,
      body: JSON.stringify({ type, timestamp: entry.at, data: loaded.data }),
      created_at: at,
    });
    for (const target of targets) {
      await insertDelivery(ctx.db, {
        id: this.options.ids.next("dlv"),
        message_id: messageId,
        target_key: target.key,
        target: target.kind,
        endpoint_id: target.endpointId,
        url: target.url,
        event_type: type,
        subject_id: entry.subject_id,
        correlation_id: entry.correlation_id,
        owner_key_id: loaded.ownerKeyId,
        status: "pending",
        attempt_count: 0,
        cycle_attempts: 0,
        next_attempt_at: firstAttemptAt,
        locked_until: null,
        lease_token: null,
        last_error: null,
        created_at: at,
        updated_at: at,
        delivered_at: null,
        dead_lettered_at: null,
      });
    }
    return true;
  }

  /** The resource the event carries as `data`, read in the transaction (so it is what committed). */
  private async load(ctx: WriteContext, entry: AuditEntry, type: EventType): Promise<Loaded> {
    switch (type) {
      case "request.created":
      case "request.decided":
      case "request.cancelled":
      case "request.timed_out": {
        const request: ApprovalRequest | undefined = await getRequest(ctx.db, entry.subject_id);
        if (!request) return { data: entry, ownerKeyId: null, callbackUrl: null };
        return {
          data: request,
          ownerKeyId: request.created_by.role === "agent" ? request.created_by.key_id : null,
          callbackUrl: request.callback_url,
        };
      }
      case "govern.denied": {
        const row = await wdb(ctx.db)
          .selectFrom("governed_calls")
          .select(["doc", "agent_key_id"])
          .where("id", "=", entry.subject_id)
          .executeTakeFirst();
        return row
          ? { data: JSON.parse(row.doc), ownerKeyId: row.agent_key_id, callbackUrl: null }
          : { data: entry, ownerKeyId: null, callbackUrl: null };
      }
      case "action.logged": {
        const row = await wdb(ctx.db)
          .selectFrom("actions")
          .select(["doc", "created_by_key_id"])
          .where("id", "=", entry.subject_id)
          .executeTakeFirst();
        return row
          ? { data: JSON.parse(row.doc), ownerKeyId: row.created_by_key_id, callbackUrl: null }
          : { data: entry, ownerKeyId: null, callbackUrl: null };
      }
      case "kill_switch.changed": {
        const row = await wdb(ctx.db)
          .selectFrom("kill_switches")
          .select("doc")
          .where("id", "=", entry.subject_id)
          .executeTakeFirst();
        return { data: row ? JSON.parse(row.doc) : entry, ownerKeyId: null, callbackUrl: null };
      }
      case "delivery.dead_lettered": {
        const row = await getDelivery(ctx.db, entry.subject_id);
        if (!row) return { data: entry, ownerKeyId: null, callbackUrl: null };
        const [resource] = await loadDeliveryResources(ctx.db, [row]);
        return { data: resource, ownerKeyId: row.owner_key_id, callbackUrl: null };
      }
    }
  }

  /**
   * Refuses, when the request is created, a callback URL the callback policy forbids (one pointing
   * inside the network and not allow-listed for callbacks), as a 400 naming `/callback_url`.
   */
  checkCallbackUrl(url: string): void {
    try {
      this.options.callbackPolicy().checkUrl(url);
    } catch (error) {
      if (!(error instanceof OutboundRefusedError)) throw error;
      const message = `callback_url refused: ${error.message}`;
      throw new ValidationError(message, [{ path: "/callback_url", message: error.message }]);
    }
  }
}
