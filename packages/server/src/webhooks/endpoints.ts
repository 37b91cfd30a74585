// Webhook endpoints: registration (target and event checks, the cap on active endpoints), listing,
// deletion (which cancels their pending deliveries) and secret rotation. Registration and rotation
// are the only answers that carry the signing secret.

import { ConflictError, NotFoundError, type Principal, ValidationError } from "@countersign/core";
import { type EventType, isEventType } from "./events.ts";
import {
  cancelEndpointDeliveries,
  countActiveEndpoints,
  deleteEndpoint,
  type EndpointRow,
  getEndpoint,
  insertEndpoint,
  listEndpoints,
  updateEndpointSecrets,
} from "./repo.ts";
import { type EndpointResource, endpointResource, redactUrl } from "./resources.ts";
import { DEFAULT_GRACE_SECONDS, endpointAad, tryOpen } from "./sealing.ts";
import { newMaterial, rotateMaterial, type SigningMaterial, type SigningScheme } from "./secrets.ts";
import { OutboundRefusedError } from "./ssrf.ts";
import { auditDraft, requireBox, type WebhooksState } from "./state.ts";

/** At most this many active endpoints: every event fans out to each subscriber in its transaction. */
export const MAX_ENDPOINTS = 100;

export interface CreateEndpointInput {
  url: string;
  events: string[];
  description?: string | undefined;
  signing?: SigningScheme | undefined;
}

/** The answer to a registration or rotation: the only time the secret is shown. */
export interface EndpointWithSecret extends EndpointResource {
  secret: string;
}

export class WebhookEndpoints {
  private readonly state: WebhooksState;

  constructor(state: WebhooksState) {
    this.state = state;
  }

  async create(input: CreateEndpointInput, by: Principal): Promise<EndpointWithSecret> {
    const { deps, outbox } = this.state;
    const box = requireBox(this.state);
    const events = checkEvents(input.events);
    const url = await this.checkTarget(input.url, "/url");
    const signing = input.signing ?? "hmac";
    const now = deps.clock.now();
    const at = new Date(now).toISOString();
    const id = deps.ids.next("whk");
    const material = newMaterial(signing, deps.random, at);
    const row: EndpointRow = {
      id,
      url,
      events: JSON.stringify(events),
      description: input.description ?? null,
      signing,
      secrets: box.sealMaterial(material, endpointAad(id)),
      active: 1,
      created_at: at,
      created_by: by.key_id,
      updated_at: at,
      deleted_at: null,
    };
    await deps.store.write(async (ctx) => {
      if ((await countActiveEndpoints(ctx.db)) >= MAX_ENDPOINTS) {
        throw new ConflictError(
          "too_many_webhooks",
          `at most ${MAX_ENDPOINTS} webhook endpoints can be active`,
        );
      }
      await insertEndpoint(ctx.db, row);
      outbox.invalidate(ctx);
      await ctx.appendAudit([
        auditDraft(at, "webhook.created", id, by, { url: redactUrl(url), events, signing }),
      ]);
    });
    return { ...endpointResource(row, material), secret: firstSecret(material) };
  }

  async list(): Promise<EndpointResource[]> {
    const rows = await listEndpoints(this.state.deps.store.db);
    return rows.map((row) => endpointResource(row, this.openMaterial(row)));
  }

  async get(id: string): Promise<EndpointResource> {
    const row = await getEndpoint(this.state.deps.store.db, id);
    if (row?.active !== 1) throw new NotFoundError(`no webhook endpoint ${id}`);
    return endpointResource(row, this.openMaterial(row));
  }

  /** Deletes an endpoint; its pending deliveries are cancelled (their history stays). */
  async remove(id: string, by: Principal): Promise<EndpointResource> {
    const { deps, outbox } = this.state;
    const at = new Date(deps.clock.now()).toISOString();
    const row = await deps.store.write(async (ctx) => {
      const found = await getEndpoint(ctx.db, id);
      if (!found || !(await deleteEndpoint(ctx.db, id, at))) {
        throw new NotFoundError(`no webhook endpoint ${id}`);
      }
      outbox.invalidate(ctx);
      const cancelled = await cancelEndpointDeliveries(ctx.db, id, at);
      await ctx.appendAudit([
        auditDraft(at, "webhook.deleted", id, by, {
          url: redactUrl(found.url),
          cancelled_deliveries: cancelled,
        }),
      ]);
      return { ...found, active: 0, deleted_at: at, updated_at: at };
    });
    return endpointResource(row, this.openMaterial(row));
  }

  /**
   * A new signing secret (and key pair, for Ed25519 endpoints). The old ones keep signing, beside the
   * new, for `graceSeconds`, so receivers can switch over without rejecting a message.
   */
  async rotate(id: string, graceSeconds: number | undefined, by: Principal): Promise<EndpointWithSecret> {
    const { deps } = this.state;
    const box = requireBox(this.state);
    const grace = graceSeconds ?? DEFAULT_GRACE_SECONDS;
    const now = deps.clock.now();
    const at = new Date(now).toISOString();
    const { row, material } = await deps.store.write(async (ctx) => {
      const found = await getEndpoint(ctx.db, id);
      if (found?.active !== 1) throw new NotFoundError(`no webhook endpoint ${id}`);
      // Secrets sealed under a lost key cannot be kept through a grace period: start afresh.
      const current = tryOpen(box, found.secrets, endpointAad(id));
      const rotated = rotateMaterial(
        current ?? { hmac: [], ed25519: [] },
        found.signing as SigningScheme,
        deps.random,
        now,
        grace * 1000,
      );
      const sealed = box.sealMaterial(rotated, endpointAad(id));
      if (!(await updateEndpointSecrets(ctx.db, id, sealed, at))) {
        throw new NotFoundError(`no webhook endpoint ${id}`);
      }
      await ctx.appendAudit([auditDraft(at, "webhook.secret_rotated", id, by, { grace_seconds: grace })]);
      return { row: { ...found, secrets: sealed, updated_at: at }, material: rotated };
    });
    return { ...endpointResource(row, material), secret: firstSecret(material) };
  }

  private openMaterial(row: EndpointRow): SigningMaterial | undefined {
    try {
      return this.state.box()?.openMaterial(row.secrets, endpointAad(row.id));
    } catch {
      return undefined; // sealed under another key: listed all the same, without the public key
    }
  }

  /** Registration-time check of a target URL, DNS included: a 400 that says why. */
  private async checkTarget(url: string, path: string): Promise<string> {
    try {
      return (await this.state.policy().check(url)).href;
    } catch (error) {
      if (!(error instanceof OutboundRefusedError)) throw error;
      throw new ValidationError(`${path.slice(1)} refused: ${error.message}`, [
        { path, message: error.message },
      ]);
    }
  }
}

function firstSecret(material: SigningMaterial): string {
  const first = material.hmac[0];
  if (!first) throw new Error("signing material without a secret");
  return first.secret;
}

function checkEvents(events: string[]): EventType[] {
  const unique = [...new Set(events)];
  if (unique.length === 0) {
    throw new ValidationError("subscribe to at least one event type", [
      { path: "/events", message: "must not be empty" },
    ]);
  }
  const unknown = unique.find((e) => !isEventType(e));
  if (unknown !== undefined) {
    throw new ValidationError(`unknown event type ${JSON.stringify(unknown)}`, [
      { path: "/events", message: `unknown event type ${JSON.stringify(unknown)}` },
    ]);
  }
  return unique as EventType[];
}
