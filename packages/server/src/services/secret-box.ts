// The key that seals secrets at rest (webhook signing secrets, the private halves of approval-token
// signing keys), where it comes from, and one place that opens it so every feature shares the box.

import { createHash } from "node:crypto";
import { join } from "node:path";
import { getSetting } from "../repos/settings-repo.ts";
import type { WriteContext } from "../storage/store.ts";
import { SecretBox } from "../webhooks/secrets.ts";
import type { ServiceDeps } from "./deps.ts";

// Both names predate the approval-token keys sealing under the same box; they stay for existing data.
const SECRET_KEY_SETTING = "webhooks.secret_key";
export const KEY_FILE_NAME = "webhook-secrets.key";

export interface SecretKeyOptions {
  /** The SQLite data directory: its key file then protects the secrets (see docs/webhooks.md). */
  keyDir?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

/**
 * The key that seals secrets at rest: `COUNTERSIGN_SECRET_KEY` if set; else a key file in the
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
  if (!value) throw new Error("could not store the secret box key");
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

/** Which key `openSecretBox` would use for these options (a digest, never the passphrase itself). */
function sourceOf(options: SecretKeyOptions): string {
  const passphrase = (options.env ?? process.env).COUNTERSIGN_SECRET_KEY?.trim();
  if (passphrase) return `env:${createHash("sha256").update(passphrase).digest("base64url")}`;
  if (options.keyDir) return `file:${join(options.keyDir, KEY_FILE_NAME)}`;
  return "settings";
}

/**
 * The secret box of one server, opened once per key source and shared by everything that seals:
 * the signing keys load with it before webhooks start, and webhooks started with the same options
 * get the same box. Options given at construction are the default; a caller may name others (a
 * restart under another `COUNTERSIGN_SECRET_KEY`), which open their own box.
 */
export class SharedSecretBox {
  private readonly deps: ServiceDeps;
  private readonly defaults: SecretKeyOptions;
  private readonly opened = new Map<string, Promise<SecretBox>>();

  constructor(deps: ServiceDeps, defaults: SecretKeyOptions = {}) {
    this.deps = deps;
    this.defaults = defaults;
  }

  open(options: SecretKeyOptions = this.defaults): Promise<SecretBox> {
    const source = sourceOf(options);
    let box = this.opened.get(source);
    if (box === undefined) {
      box = openSecretBox(this.deps, options);
      // A failed open (a malformed key file, storage down) is tried again by the next caller.
      const opening = box;
      opening.catch(() => {
        if (this.opened.get(source) === opening) this.opened.delete(source);
      });
      this.opened.set(source, box);
    }
    return box;
  }
}
