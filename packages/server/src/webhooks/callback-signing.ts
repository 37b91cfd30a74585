// The signing material of request callbacks (`callback_url`): one server-wide HMAC secret and
// Ed25519 key pair, kept sealed in the settings table, created on first start, readable by admins
// and rotated with a grace period. Endpoint secrets live with their endpoints (endpoints.ts).

import { ConflictError, type Principal, UnavailableError } from "@countersign/core";
import { getSetting } from "../repos/settings-repo.ts";
import { DEFAULT_GRACE_SECONDS, insertSettingIfAbsent, tryOpen } from "./sealing.ts";
import { newMaterial, rotateMaterial, type SigningMaterial } from "./secrets.ts";
import { auditDraft, requireBox, type WebhooksState } from "./state.ts";

const CALLBACK_SIGNING_SETTING = "webhooks.callback_signing";
export const CALLBACK_AAD = "settings:webhooks.callback_signing";

export interface CallbackSigning {
  /** HMAC secret (`whsec_…`) that signs `v1` signatures of every request callback. */
  secret: string;
  /** Ed25519 public key (`whpk_…`) that verifies their `v1a` signatures. */
  public_key: string;
  previous_secret_expires_at: string | null;
}

export class CallbackSigningKeys {
  private readonly state: WebhooksState;

  constructor(state: WebhooksState) {
    this.state = state;
  }

  /**
   * The secret and public key that sign request callbacks (`callback_url`). There is no registration
   * at which to show it once, so admins can read it; rotate it to replace it.
   */
  async read(): Promise<CallbackSigning> {
    return callbackView(await this.readMaterial());
  }

  async rotate(graceSeconds: number | undefined, by: Principal): Promise<CallbackSigning> {
    const { deps } = this.state;
    const box = requireBox(this.state);
    const grace = graceSeconds ?? DEFAULT_GRACE_SECONDS;
    const now = deps.clock.now();
    const at = new Date(now).toISOString();
    const material = await deps.store.write(async (ctx) => {
      const envelope = await getSetting(ctx.db, CALLBACK_SIGNING_SETTING);
      if (!envelope) throw new UnavailableError("callback signing is not initialised");
      const rotated = rotateMaterial(
        tryOpen(box, envelope, CALLBACK_AAD) ?? { hmac: [], ed25519: [] },
        "ed25519",
        deps.random,
        now,
        grace * 1000,
      );
      await ctx.db
        .updateTable("settings")
        .set({ value: box.sealMaterial(rotated, CALLBACK_AAD), updated_at: at })
        .where("name", "=", CALLBACK_SIGNING_SETTING)
        .execute();
      await ctx.appendAudit([
        auditDraft(at, "webhook.secret_rotated", "callbacks", by, { grace_seconds: grace }),
      ]);
      return rotated;
    });
    return callbackView(material);
  }

  /** The sealed material, as stored (sealed under `CALLBACK_AAD`). */
  async readEnvelope(): Promise<string> {
    const envelope = await getSetting(this.state.deps.store.db, CALLBACK_SIGNING_SETTING);
    if (!envelope) throw new UnavailableError("callback signing is not initialised");
    return envelope;
  }

  /** Creates the callback signing material on first start (once, whichever replica gets there first). */
  async ensure(): Promise<void> {
    const { deps } = this.state;
    if (await getSetting(deps.store.db, CALLBACK_SIGNING_SETTING)) return;
    const box = requireBox(this.state);
    const at = new Date(deps.clock.now()).toISOString();
    const sealed = box.sealMaterial(newMaterial("ed25519", deps.random, at), CALLBACK_AAD);
    await deps.store.write((ctx) => insertSettingIfAbsent(ctx, CALLBACK_SIGNING_SETTING, sealed, at));
  }

  private async readMaterial(): Promise<SigningMaterial> {
    const box = requireBox(this.state);
    try {
      return box.openMaterial(await this.readEnvelope(), CALLBACK_AAD);
    } catch (error) {
      if (error instanceof UnavailableError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new ConflictError("secret_unreadable", `the callback signing secret cannot be read: ${reason}`);
    }
  }
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
