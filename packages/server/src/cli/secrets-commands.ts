import { parseArgs } from "node:util";
import type { ServerConfig } from "../config.ts";
import type { Output } from "./main.ts";
import { STORAGE_FLAGS } from "./storage-flags.ts";

const USAGE = "usage: countersign secrets recover [--apply] [--data DIR | --database-url URL]";

/**
 * `countersign secrets recover`: after the secret key was lost (the key file deleted, or
 * `COUNTERSIGN_SECRET_KEY` changed), the server refuses to start, because its active approval-token
 * signing key cannot be opened. This lists such keys and, with `--apply`, retires them (audited);
 * the next start makes a new key. Webhook secrets are rotated through the API once the server runs.
 */
export async function secretsCommand(
  args: string[],
  env: NodeJS.ProcessEnv,
  out: Output,
  resolve: (flags: Record<string, string | undefined>) => Promise<ServerConfig>,
): Promise<number> {
  const parsed = parseArgs({
    args,
    options: { ...STORAGE_FLAGS, apply: { type: "boolean" } },
    allowPositionals: true,
    strict: true,
  });
  if (parsed.positionals[0] !== "recover" || parsed.positionals.length > 1) {
    out.stderr(USAGE);
    return 2;
  }
  const { apply, ...storage } = parsed.values;
  const config = await resolve(storage);
  const { createServices, openStore } = await import("../runtime.ts");
  const store = await openStore(config);
  try {
    // The same key source as `serve`: the SQLite data directory's key file unless the variable is set.
    const keyDir = config.databaseUrl ? undefined : config.dataDir;
    const services = createServices(store, { secretKey: { keyDir, env } });
    const found = await services.signingKeys.recoverUnreadable(apply === true);
    if (found.length === 0) {
      out.stdout("Every active approval-token signing key opens with the current secret key: nothing to do.");
    }
    for (const key of found) {
      out.stdout(
        `${key.kid}: ${key.reason}\n  ${key.retired ? "retired" : "would be retired (run again with --apply)"}`,
      );
    }
    if (found.some((key) => key.retired)) {
      out.stdout(
        "\nThe next start creates a new signing key. Tokens the retired keys signed keep verifying until they expire.",
      );
    }
    out.stdout(
      "\nWebhook secrets sealed under a lost key are not changed here: once the server runs, rotate them" +
        " (POST /v1/webhooks/{id}/rotate, POST /v1/webhooks/callback-signing/rotate; see docs/webhooks.md).",
    );
    return 0;
  } finally {
    await store.close();
  }
}
