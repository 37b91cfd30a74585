// The key that seals webhook signing secrets at rest, and the helpers every sealed value goes
// through: where the key comes from, the associated data that binds an endpoint's secrets to its row,
// reading material sealed under a key that may since have been lost, and storing a setting once.

import { join } from "node:path";
import { getSetting } from "../repos/settings-repo.ts";
import type { ServiceDeps } from "../services/deps.ts";
import type { WriteContext } from "../storage/store.ts";
import { SecretBox, type SigningMaterial } from "./secrets.ts";

/** How long a rotated-out secret keeps signing beside its replacement, unless the caller says. */
export const DEFAULT_GRACE_SECONDS = 24 * 3600;

const SECRET_KEY_SETTING = "webhooks.secret_key";
export const KEY_FILE_NAME = "webhook-secrets.key";

export interface SecretKeyOptions {
  /** The SQLite data directory: its key file then protects the secrets (see docs/webhooks.md). */
  keyDir?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

/**
 * The key that seals webhook secrets: `COUNTERSIGN_SECRET_KEY` if set; else a key file in the
 * SQLite data directory; else (PostgreSQL without the variable) a key kept in the settings table,
 * which protects nothing against someone holding the database. docs/webhooks.md says so too.
 */
export async function openSecretBox(deps: ServiceDeps, options: SecretKeyOptions): Promise<SecretBox> {
  const env = options.env ?? process.env;
  const passphrase = env.COUNTERSIGN_SECRET_KEY?.trim();
  if (passphrase) return SecretBox.fromPassphrase(passphrase);
  if (options.keyDir) return SecretBox.fromKeyFile(join(options.keyDir, KEY_FILE_NAME));
  let value = await getSetting(deps.store.db, SECRET_KEY_SETTING);
  if (!value) {
    const at = new Date(deps.clock.now()).toISOString();
    const fresh = Buffer.from(deps.random.bytes(32)).toString("base64");
    await deps.store.write((ctx) => insertSettingIfAbsent(ctx, SECRET_KEY_SETTING, fresh, at));
    value = await getSetting(deps.store.db, SECRET_KEY_SETTING);
  }
  if (!value) throw new Error("could not store the webhook secret key");
  return new SecretBox(Buffer.from(value, "base64"));
}

/** Stores a setting unless one is there already (whichever replica gets there first wins). */
export async function insertSettingIfAbsent(
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

/** The material, or undefined when it was sealed under another key. */
export function tryOpen(box: SecretBox, envelope: string, aad: string): SigningMaterial | undefined {
  try {
    return box.openMaterial(envelope, aad);
  } catch {
    return undefined;
  }
}

export function endpointAad(id: string): string {
  return `webhook_endpoints:${id}`;
}
