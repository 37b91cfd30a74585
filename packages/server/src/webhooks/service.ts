import { join } from "node:path";
import {
  type AuditDraft,
  ConflictError,
  NotFoundError,
  type Principal,
  principalActor,
  UnavailableError,
  ValidationError,
} from "@countersign/core";
import { getSetting } from "../repos/settings-repo.ts";
import type { ServiceDeps } from "../services/deps.ts";
import type { WriteContext } from "../storage/store.ts";
import { type EventType, isEventType } from "./events.ts";
import { OutboundClient } from "./outbound.ts";
import { Outbox } from "./outbox.ts";
import {
  cancelEndpointDeliveries,
  countActiveEndpoints,
  type DeliveryFilter,
  type DeliveryRow,
  deleteEndpoint,
  type EndpointRow,
  getDelivery,
  getEndpoint,
  insertEndpoint,
  listDeliveries,
  listEndpoints,
  updateDelivery,
  updateEndpointSecrets,
} from "./repo.ts";
import {
  type DeliveryResource,
  type EndpointResource,
  endpointResource,
  loadDeliveryResources,
  redactUrl,
} from "./resources.ts";
import { DEFAULT_RETRY_SCHEDULE, sweepIntervalMs } from "./schedule.ts";
import { wdb } from "./schema.ts";
import {
  newMaterial,
  rotateMaterial,
  SecretBox,
  type SigningKeys,
  type SigningMaterial,
  type SigningScheme,
  signingKeys,
} from "./secrets.ts";
import { OutboundPolicy, OutboundRefusedError, type Resolver } from "./ssrf.ts";
import { DeliveryWorker, type TargetResolution } from "./worker.ts";

/** At most this many active endpoints: every event fans out to each subscriber in its transaction. */
export const MAX_ENDPOINTS = 100;
export const DEFAULT_GRACE_SECONDS = 24 * 3600;

const SECRET_KEY_SETTING = "webhooks.secret_key";
const CALLBACK_SIGNING_SETTING = "webhooks.callback_signing";
const CALLBACK_AAD = "settings:webhooks.callback_signing";
export const KEY_FILE_NAME = "webhook-secrets.key";

export interface WebhookSettings {
  outboundAllowlist?: string[] | undefined;
  webhookRetrySchedule?: number[] | undefined;
}

export interface WebhooksStartOptions {
  onError?: (error: unknown, context: string) => void;
  /** The SQLite data directory: its key file then protects the secrets (see docs/webhooks.md). */
  keyDir?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Tests and benchmarks only. */
  resolver?: Resolver;
  timeoutMs?: number;
  leaseMs?: number;
  concurrency?: number;
}

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

export interface CallbackSigning {
  /** HMAC secret (`whsec_…`) that signs `v1` signatures of every request callback. */
  secret: string;
  /** Ed25519 public key (`whpk_…`) that verifies their `v1a` signatures. */
  public_key: string;
  previous_secret_expires_at: string | null;
}

/**
 * Webhooks: endpoints and their subscriptions, the transactional outbox (an audit listener), the
 * delivery worker, dead letters and redrive, and the signing secrets.
 */
export class WebhooksService {
  private readonly deps: ServiceDeps;
  readonly outbox: Outbox;
  private policy = new OutboundPolicy([]);
  private schedule: readonly number[] = DEFAULT_RETRY_SCHEDULE;
  private box: SecretBox | undefined;
  private client: OutboundClient | undefined;
  private deliveryWorker: DeliveryWorker | undefined;
  private readonly keyCache = new Map<string, SigningKeys>();

  constructor(deps: ServiceDeps) {
    this.deps = deps;
    this.outbox = new Outbox({
      ids: deps.ids,
      now: () => deps.clock.now(),
      policy: () => this.policy,
      firstDelayMs: () => (this.schedule[0] ?? 0) * 1000,
      onCommitted: () => this.deliveryWorker?.poke(),
    });
    deps.store.onAppend(this.outbox.listener);
  }

  /** The delivery worker, once started (tests and benchmarks wait on it). */
  get worker(): DeliveryWorker | undefined {
    return this.deliveryWorker;
  }

  get retrySchedule(): readonly number[] {
    return this.schedule;
  }

  async start(settings: WebhookSettings, options: WebhooksStartOptions = {}): Promise<void> {
    if (this.deliveryWorker) return;
    this.policy = new OutboundPolicy(settings.outboundAllowlist ?? [], options.resolver);
    this.schedule = settings.webhookRetrySchedule ?? DEFAULT_RETRY_SCHEDULE;
    this.box = await this.openSecretBox(options);
    await this.ensureCallbackSigning();
    const timeoutMs = options.timeoutMs ?? 15_000;
    this.client = new OutboundClient({ policy: this.policy, timeoutMs });
    this.deliveryWorker = new DeliveryWorker({
      store: this.deps.store,
      clock: this.deps.clock,
      client: this.client,
      resolve: (delivery) => this.resolveTarget(delivery),
      schedule: this.schedule,
      leaseMs: options.leaseMs ?? 5_000,
      concurrency: options.concurrency ?? 32,
      sweepMs: sweepIntervalMs(this.schedule),
      onError: options.onError ?? (() => {}),
    });
    this.deliveryWorker.start();
  }

  /** Stops the delivery worker (attempts in flight finish or are released); `start` may follow. */
  async stop(): Promise<void> {
    const worker = this.deliveryWorker;
    this.deliveryWorker = undefined;
    await worker?.stop();
    this.client?.close();
    this.client = undefined;
  }

  // ---- endpoints ---------------------------------------------------------------------------------

  async create(input: CreateEndpointInput, by: Principal): Promise<EndpointWithSecret> {
    const box = this.requireBox();
    const events = checkEvents(input.events);
    const url = await this.checkTarget(input.url, "/url");
    const signing = input.signing ?? "hmac";
    const now = this.deps.clock.now();
    const at = new Date(now).toISOString();
    const id = this.deps.ids.next("whk");
    const material = newMaterial(signing, this.deps.random, at);
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
    await this.deps.store.write(async (ctx) => {
      if ((await countActiveEndpoints(ctx.db)) >= MAX_ENDPOINTS) {
        throw new ConflictError(
          "too_many_webhooks",
          `at most ${MAX_ENDPOINTS} webhook endpoints can be active`,
        );
      }
      await insertEndpoint(ctx.db, row);
      this.outbox.invalidate(ctx);
      await ctx.appendAudit([
        this.audit(at, "webhook.created", id, by, { url: redactUrl(url), events, signing }),
      ]);
    });
    return { ...endpointResource(row, material), secret: firstSecret(material) };
  }

  async list(): Promise<EndpointResource[]> {
    const rows = await listEndpoints(this.deps.store.db);
    return rows.map((row) => endpointResource(row, this.openEndpointMaterial(row)));
  }

  async get(id: string): Promise<EndpointResource> {
    const row = await getEndpoint(this.deps.store.db, id);
    if (row?.active !== 1) throw new NotFoundError(`no webhook endpoint ${id}`);
    return endpointResource(row, this.openEndpointMaterial(row));
  }

  /** Deletes an endpoint; its pending deliveries are cancelled (their history stays). */
  async remove(id: string, by: Principal): Promise<EndpointResource> {
    const at = new Date(this.deps.clock.now()).toISOString();
    const row = await this.deps.store.write(async (ctx) => {
      const found = await getEndpoint(ctx.db, id);
      if (!found || !(await deleteEndpoint(ctx.db, id, at))) {
        throw new NotFoundError(`no webhook endpoint ${id}`);
      }
      this.outbox.invalidate(ctx);
      const cancelled = await cancelEndpointDeliveries(ctx.db, id, at);
      await ctx.appendAudit([
        this.audit(at, "webhook.deleted", id, by, {
          url: redactUrl(found.url),
          cancelled_deliveries: cancelled,
        }),
      ]);
      return { ...found, active: 0, deleted_at: at, updated_at: at };
    });
    return endpointResource(row, this.openEndpointMaterial(row));
  }

  /**
   * A new signing secret (and key pair, for Ed25519 endpoints). The old ones keep signing, beside the
   * new, for `graceSeconds`, so receivers can switch over without rejecting a message.
   */
  async rotate(id: string, graceSeconds: number | undefined, by: Principal): Promise<EndpointWithSecret> {
    const box = this.requireBox();
    const grace = graceSeconds ?? DEFAULT_GRACE_SECONDS;
    const now = this.deps.clock.now();
    const at = new Date(now).toISOString();
    const { row, material } = await this.deps.store.write(async (ctx) => {
      const found = await getEndpoint(ctx.db, id);
      if (found?.active !== 1) throw new NotFoundError(`no webhook endpoint ${id}`);
      // Secrets sealed under a lost key cannot be kept through a grace period: start afresh.
      const current = tryOpen(box, found.secrets, endpointAad(id));
      const rotated = rotateMaterial(
        current ?? { hmac: [], ed25519: [] },
        found.signing as SigningScheme,
        this.deps.random,
        now,
        grace * 1000,
      );
      const sealed = box.sealMaterial(rotated, endpointAad(id));
      if (!(await updateEndpointSecrets(ctx.db, id, sealed, at))) {
        throw new NotFoundError(`no webhook endpoint ${id}`);
      }
      await ctx.appendAudit([this.audit(at, "webhook.secret_rotated", id, by, { grace_seconds: grace })]);
      return { row: { ...found, secrets: sealed, updated_at: at }, material: rotated };
    });
    return { ...endpointResource(row, material), secret: firstSecret(material) };
  }

  // ---- request callbacks ---------------------------------------------------------------------------

  /**
   * The secret and public key that sign request callbacks (`callback_url`). There is no registration
   * at which to show it once, so admins can read it; rotate it to replace it.
   */
  async callbackSigning(): Promise<CallbackSigning> {
    return callbackView(await this.readCallbackMaterial());
  }

  async rotateCallbackSigning(graceSeconds: number | undefined, by: Principal): Promise<CallbackSigning> {
    const box = this.requireBox();
    const grace = graceSeconds ?? DEFAULT_GRACE_SECONDS;
    const now = this.deps.clock.now();
    const at = new Date(now).toISOString();
    const material = await this.deps.store.write(async (ctx) => {
      const envelope = await getSetting(ctx.db, CALLBACK_SIGNING_SETTING);
      if (!envelope) throw new UnavailableError("callback signing is not initialised");
      const rotated = rotateMaterial(
        tryOpen(box, envelope, CALLBACK_AAD) ?? { hmac: [], ed25519: [] },
        "ed25519",
        this.deps.random,
        now,
        grace * 1000,
      );
      await ctx.db
        .updateTable("settings")
        .set({ value: box.sealMaterial(rotated, CALLBACK_AAD), updated_at: at })
        .where("name", "=", CALLBACK_SIGNING_SETTING)
        .execute();
      await ctx.appendAudit([
        this.audit(at, "webhook.secret_rotated", "callbacks", by, { grace_seconds: grace }),
      ]);
      return rotated;
    });
    return callbackView(material);
  }

  // ---- deliveries ----------------------------------------------------------------------------------

  async listDeliveries(
    filter: Omit<DeliveryFilter, "limit"> & { limit: number },
  ): Promise<{ data: DeliveryResource[]; next_cursor: string | null }> {
    const rows = await listDeliveries(this.deps.store.db, { ...filter, limit: filter.limit + 1 });
    const page = rows.slice(0, filter.limit);
    const last = page[page.length - 1];
    return {
      data: await loadDeliveryResources(this.deps.store.db, page),
      next_cursor: rows.length > filter.limit && last ? last.id : null,
    };
  }

  async getDelivery(id: string): Promise<DeliveryResource> {
    const row = await getDelivery(this.deps.store.db, id);
    if (!row) throw new NotFoundError(`no webhook delivery ${id}`);
    const [resource] = await loadDeliveryResources(this.deps.store.db, [row]);
    if (!resource) throw new NotFoundError(`no webhook delivery ${id}`);
    return resource;
  }

  /**
   * Sends a dead-lettered (or aborted) delivery again, from the start of the retry schedule, with
   * the same message id and body. Every earlier attempt stays in its history.
   */
  async redrive(id: string, by: Principal): Promise<DeliveryResource> {
    const at = new Date(this.deps.clock.now()).toISOString();
    await this.deps.store.write(async (ctx) => {
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
            ...this.audit(at, "webhook.redriven", id, by, {
              message_id: row.message_id,
              event_type: row.event_type,
              previous_status: row.status,
            }),
            correlation_id: row.correlation_id,
          },
        ],
        row.owner_key_id,
      );
      ctx.afterCommit(() => this.deliveryWorker?.poke());
    });
    return this.getDelivery(id);
  }

  // ---- internals -----------------------------------------------------------------------------------

  private audit(
    at: string,
    kind: string,
    subjectId: string,
    by: Principal,
    data: Record<string, unknown>,
  ): AuditDraft {
    return { at, kind, subject_id: subjectId, correlation_id: null, actor: principalActor(by), data };
  }

  private requireBox(): SecretBox {
    if (!this.box) throw new UnavailableError("webhooks are not started yet");
    return this.box;
  }

  private openEndpointMaterial(row: EndpointRow): SigningMaterial | undefined {
    try {
      return this.box?.openMaterial(row.secrets, endpointAad(row.id));
    } catch {
      return undefined; // sealed under another key: listed all the same, without the public key
    }
  }

  /** Registration-time check of a target URL, DNS included: a 400 that says why. */
  private async checkTarget(url: string, path: string): Promise<string> {
    try {
      return (await this.policy.check(url)).href;
    } catch (error) {
      if (!(error instanceof OutboundRefusedError)) throw error;
      throw new ValidationError(`${path.slice(1)} refused: ${error.message}`, [
        { path, message: error.message },
      ]);
    }
  }

  private async resolveTarget(delivery: DeliveryRow): Promise<TargetResolution> {
    if (delivery.target === "callback") {
      return { url: delivery.url, keys: this.keysFor(await this.readCallbackEnvelope(), CALLBACK_AAD) };
    }
    const endpointId = delivery.endpoint_id ?? "";
    const row = await wdb(this.deps.store.db)
      .selectFrom("webhook_endpoints")
      .select(["secrets", "active"])
      .where("id", "=", endpointId)
      .executeTakeFirst();
    if (row?.active !== 1) return { cancel: "the endpoint was deleted" };
    return { url: delivery.url, keys: this.keysFor(row.secrets, endpointAad(endpointId)) };
  }

  /** Decrypting and importing keys costs more than signing: cache per sealed value until expiry. */
  private keysFor(envelope: string, aad: string): SigningKeys {
    const now = this.deps.clock.now();
    const cacheKey = `${aad}\n${envelope}`;
    const cached = this.keyCache.get(cacheKey);
    if (cached && cached.validUntilMs > now) return cached;
    const keys = signingKeys(this.requireBox().openMaterial(envelope, aad), now);
    if (this.keyCache.size >= 1000) this.keyCache.clear();
    this.keyCache.set(cacheKey, keys);
    return keys;
  }

  private async readCallbackEnvelope(): Promise<string> {
    const envelope = await getSetting(this.deps.store.db, CALLBACK_SIGNING_SETTING);
    if (!envelope) throw new UnavailableError("callback signing is not initialised");
    return envelope;
  }

  private async readCallbackMaterial(): Promise<SigningMaterial> {
    const box = this.requireBox();
    try {
      return box.openMaterial(await this.readCallbackEnvelope(), CALLBACK_AAD);
    } catch (error) {
      if (error instanceof UnavailableError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new ConflictError("secret_unreadable", `the callback signing secret cannot be read: ${reason}`);
    }
  }

  /** Creates the callback signing material on first start (once, whichever replica gets there first). */
  private async ensureCallbackSigning(): Promise<void> {
    if (await getSetting(this.deps.store.db, CALLBACK_SIGNING_SETTING)) return;
    const box = this.requireBox();
    const at = new Date(this.deps.clock.now()).toISOString();
    const sealed = box.sealMaterial(newMaterial("ed25519", this.deps.random, at), CALLBACK_AAD);
    await this.deps.store.write((ctx) => insertSettingIfAbsent(ctx, CALLBACK_SIGNING_SETTING, sealed, at));
  }

  /**
   * The key that seals webhook secrets: `COUNTERSIGN_SECRET_KEY` if set; else a key file in the
   * SQLite data directory; else (PostgreSQL without the variable) a key kept in the settings table,
   * which protects nothing against someone holding the database. docs/webhooks.md says so too.
   */
  private async openSecretBox(options: WebhooksStartOptions): Promise<SecretBox> {
    const env = options.env ?? process.env;
    const passphrase = env.COUNTERSIGN_SECRET_KEY?.trim();
    if (passphrase) return SecretBox.fromPassphrase(passphrase);
    if (options.keyDir) return SecretBox.fromKeyFile(join(options.keyDir, KEY_FILE_NAME));
    let value = await getSetting(this.deps.store.db, SECRET_KEY_SETTING);
    if (!value) {
      const at = new Date(this.deps.clock.now()).toISOString();
      const fresh = Buffer.from(this.deps.random.bytes(32)).toString("base64");
      await this.deps.store.write((ctx) => insertSettingIfAbsent(ctx, SECRET_KEY_SETTING, fresh, at));
      value = await getSetting(this.deps.store.db, SECRET_KEY_SETTING);
    }
    if (!value) throw new Error("could not store the webhook secret key");
    return new SecretBox(Buffer.from(value, "base64"));
  }
}

async function insertSettingIfAbsent(
  ctx: WriteContext,
  name: string,
  value: string,
  at: string,
): Promise<void> {
  await ctx.db
    .insertInto("settings")
    .values({ name, value, updated_at: at })
    .onConflict((oc) => oc.column("name").doNothing())
    .execute();
}

function tryOpen(box: SecretBox, envelope: string, aad: string): SigningMaterial | undefined {
  try {
    return box.openMaterial(envelope, aad);
  } catch {
    return undefined;
  }
}

function endpointAad(id: string): string {
  return `webhook_endpoints:${id}`;
}

function firstSecret(material: SigningMaterial): string {
  const first = material.hmac[0];
  if (!first) throw new Error("signing material without a secret");
  return first.secret;
}

function callbackView(material: SigningMaterial): CallbackSigning {
  const secret = material.hmac[0]?.secret;
  const publicKey = material.ed25519[0]?.public_key;
  if (!secret || !publicKey) throw new Error("callback signing material is incomplete");
  return {
    secret,
    public_key: publicKey,
    previous_secret_expires_at: material.hmac.find((h) => h.expires_at !== null)?.expires_at ?? null,
  };
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
