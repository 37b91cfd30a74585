// Where the delivery worker sends a delivery and the keys it signs it with: the endpoint's current
// secrets (or a cancellation, once the endpoint is deleted), or the callback signing material. The
// unsealed keys are cached, since decrypting and importing them costs more than signing.

import { CALLBACK_AAD, type CallbackSigningKeys } from "./callback-signing.ts";
import type { DeliveryRow } from "./repo.ts";
import { wdb } from "./schema.ts";
import { endpointAad } from "./sealing.ts";
import { type SigningKeys, signingKeys } from "./secrets.ts";
import { requireBox, type WebhooksState } from "./state.ts";
import type { TargetResolution } from "./worker.ts";

export class DeliveryTargets {
  private readonly state: WebhooksState;
  private readonly callbacks: CallbackSigningKeys;
  private readonly keyCache = new Map<string, SigningKeys>();

  constructor(state: WebhooksState, callbacks: CallbackSigningKeys) {
    this.state = state;
    this.callbacks = callbacks;
  }

  async resolve(delivery: DeliveryRow): Promise<TargetResolution> {
    if (delivery.target === "callback") {
      return { url: delivery.url, keys: this.keysFor(await this.callbacks.readEnvelope(), CALLBACK_AAD) };
    }
    const endpointId = delivery.endpoint_id ?? "";
    const row = await wdb(this.state.deps.store.db)
      .selectFrom("webhook_endpoints")
      .select(["secrets", "active"])
      .where("id", "=", endpointId)
      .executeTakeFirst();
    if (row?.active !== 1) return { cancel: "the endpoint was deleted" };
    return { url: delivery.url, keys: this.keysFor(row.secrets, endpointAad(endpointId)) };
  }

  /** Decrypting and importing keys costs more than signing: cache per sealed value until expiry. */
  private keysFor(envelope: string, aad: string): SigningKeys {
    const now = this.state.deps.clock.now();
    const cacheKey = `${aad}\n${envelope}`;
    const cached = this.keyCache.get(cacheKey);
    if (cached && cached.validUntilMs > now) return cached;
    const keys = signingKeys(requireBox(this.state).openMaterial(envelope, aad), now);
    if (this.keyCache.size >= 1000) this.keyCache.clear();
    this.keyCache.set(cacheKey, keys);
    return keys;
  }
}
