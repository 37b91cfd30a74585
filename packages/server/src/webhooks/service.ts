// The webhooks service as the rest of the server sees it: its lifecycle (the secret box, the callback
// signing material and the delivery worker are set up on `start`), the transactional outbox wired in
// as an audit listener, and the admin API, each part of which lives in its own file.

import type { Principal } from "@countersign/core";
import type { ServiceDeps } from "../services/deps.ts";
import { SharedSecretBox } from "../services/secret-box.ts";
import { type CallbackSigning, CallbackSigningKeys } from "./callback-signing.ts";
import { WebhookDeliveries } from "./deliveries.ts";
import { type CreateEndpointInput, type EndpointWithSecret, WebhookEndpoints } from "./endpoints.ts";
import { OutboundClient } from "./outbound.ts";
import { Outbox } from "./outbox.ts";
import type { DeliveryFilter } from "./repo.ts";
import type { DeliveryResource, EndpointResource } from "./resources.ts";
import { DEFAULT_RETRY_SCHEDULE, sweepIntervalMs } from "./schedule.ts";
import type { SecretKeyOptions } from "./sealing.ts";
import type { SecretBox } from "./secrets.ts";
import { OutboundPolicy, type Resolver } from "./ssrf.ts";
import type { WebhooksState } from "./state.ts";
import { DeliveryTargets } from "./targets.ts";
import { DeliveryWorker } from "./worker.ts";

export interface WebhookSettings {
  /** Internal targets admins' webhook endpoints may reach. */
  outboundAllowlist?: string[] | undefined;
  /** Internal targets agents' callback URLs may reach (a separate list: see WebhookConfig). */
  callbackAllowlist?: string[] | undefined;
  webhookRetrySchedule?: number[] | undefined;
}

export interface WebhooksStartOptions extends SecretKeyOptions {
  onError?: (error: unknown, context: string) => void;
  /** Tests and benchmarks only. */
  resolver?: Resolver;
  timeoutMs?: number;
  leaseMs?: number;
  concurrency?: number;
}

/**
 * Webhooks: endpoints and their subscriptions, the transactional outbox (an audit listener), the
 * delivery worker, dead letters and redrive, and the signing secrets.
 */
export class WebhooksService {
  private readonly deps: ServiceDeps;
  readonly outbox: Outbox;
  private policy = new OutboundPolicy([]);
  private callbackPolicy = new OutboundPolicy([], undefined, "COUNTERSIGN_CALLBACK_ALLOWLIST");
  private schedule: readonly number[] = DEFAULT_RETRY_SCHEDULE;
  private box: SecretBox | undefined;
  private readonly secretBox: SharedSecretBox;
  /** One client per policy: a pooled socket is reused without a new address check, so admins'
   * endpoints and agents' callbacks must never share one. */
  private clients: { endpoint: OutboundClient; callback: OutboundClient } | undefined;
  private deliveryWorker: DeliveryWorker | undefined;
  private readonly endpoints: WebhookEndpoints;
  private readonly callbacks: CallbackSigningKeys;
  private readonly deliveries: WebhookDeliveries;
  private readonly targets: DeliveryTargets;

  /** `secretBox` is the server's shared box (the signing keys seal under it too); else its own. */
  constructor(deps: ServiceDeps, secretBox: SharedSecretBox = new SharedSecretBox(deps)) {
    this.deps = deps;
    this.secretBox = secretBox;
    this.outbox = new Outbox({
      ids: deps.ids,
      now: () => deps.clock.now(),
      callbackPolicy: () => this.callbackPolicy,
      firstDelayMs: () => (this.schedule[0] ?? 0) * 1000,
      onCommitted: () => this.deliveryWorker?.poke(),
    });
    deps.store.onAppend(this.outbox.listener);
    const state: WebhooksState = {
      deps,
      outbox: this.outbox,
      box: () => this.box,
      policy: () => this.policy,
      pokeWorker: () => this.deliveryWorker?.poke(),
    };
    this.endpoints = new WebhookEndpoints(state);
    this.callbacks = new CallbackSigningKeys(state);
    this.deliveries = new WebhookDeliveries(state);
    this.targets = new DeliveryTargets(state, this.callbacks);
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
    this.callbackPolicy = new OutboundPolicy(
      settings.callbackAllowlist ?? [],
      options.resolver,
      "COUNTERSIGN_CALLBACK_ALLOWLIST",
    );
    this.schedule = settings.webhookRetrySchedule ?? DEFAULT_RETRY_SCHEDULE;
    this.box = await this.secretBox.open(options);
    await this.callbacks.ensure();
    const timeoutMs = options.timeoutMs ?? 15_000;
    const clients = {
      endpoint: new OutboundClient({ policy: this.policy, timeoutMs }),
      callback: new OutboundClient({ policy: this.callbackPolicy, timeoutMs }),
    };
    this.clients = clients;
    this.deliveryWorker = new DeliveryWorker({
      store: this.deps.store,
      clock: this.deps.clock,
      clients,
      resolve: (delivery) => this.targets.resolve(delivery),
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
    this.clients?.endpoint.close();
    this.clients?.callback.close();
    this.clients = undefined;
  }

  // ---- endpoints (endpoints.ts) --------------------------------------------------------------------

  create(input: CreateEndpointInput, by: Principal): Promise<EndpointWithSecret> {
    return this.endpoints.create(input, by);
  }

  list(): Promise<EndpointResource[]> {
    return this.endpoints.list();
  }

  get(id: string): Promise<EndpointResource> {
    return this.endpoints.get(id);
  }

  /** Deletes an endpoint; its pending deliveries are cancelled (their history stays). */
  remove(id: string, by: Principal): Promise<EndpointResource> {
    return this.endpoints.remove(id, by);
  }

  /** A new signing secret; the old one keeps signing beside it for `graceSeconds`. */
  rotate(id: string, graceSeconds: number | undefined, by: Principal): Promise<EndpointWithSecret> {
    return this.endpoints.rotate(id, graceSeconds, by);
  }

  // ---- request callbacks (callback-signing.ts) -----------------------------------------------------

  /** The secret and public key that sign request callbacks (`callback_url`). */
  callbackSigning(): Promise<CallbackSigning> {
    return this.callbacks.read();
  }

  rotateCallbackSigning(graceSeconds: number | undefined, by: Principal): Promise<CallbackSigning> {
    return this.callbacks.rotate(graceSeconds, by);
  }

  // ---- deliveries (deliveries.ts) ------------------------------------------------------------------

  listDeliveries(
    filter: Omit<DeliveryFilter, "limit"> & { limit: number },
  ): Promise<{ data: DeliveryResource[]; next_cursor: string | null }> {
    return this.deliveries.list(filter);
  }

  getDelivery(id: string): Promise<DeliveryResource> {
    return this.deliveries.get(id);
  }

  /** Sends a dead-lettered (or aborted) delivery again, from the start of the retry schedule. */
  redrive(id: string, by: Principal): Promise<DeliveryResource> {
    return this.deliveries.redrive(id, by);
  }
}
