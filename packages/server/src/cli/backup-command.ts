import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  statSync,
} from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { parseArgs } from "node:util";
import type { ServerConfig } from "../config.ts";
import { KEY_FILE_NAME } from "../services/secret-box.ts";
import { verifyAuditChain } from "./audit-check.ts";
import type { Output } from "./main.ts";
import { STORAGE_FLAGS } from "./storage-flags.ts";

const USAGE = "usage: countersign backup --to DIR [--include-key-file] [--data DIR]";
const DB_FILE = "countersign.db";

/**
 * `countersign backup --to DIR`: a consistent copy of the embedded SQLite database, safe to take
 * while the server runs, written as `DIR/countersign.db` so that DIR is itself a data directory
 * (`countersign serve --data DIR` restores it). The copy is checked before the command succeeds:
 * SQLite's integrity check, then the whole audit hash chain.
 *
 * Copying `countersign.db` with `cp` while the server runs is not a backup: recent commits live in
 * the `-wal` file until a checkpoint, and the two files copied at different moments need not agree.
 */
export async function backupCommand(
  args: string[],
  env: NodeJS.ProcessEnv,
  out: Output,
  resolve: (flags: Record<string, string | undefined>) => Promise<ServerConfig>,
): Promise<number> {
  const parsed = parseArgs({
    args,
    options: {
      ...STORAGE_FLAGS,
      to: { type: "string" },
      "include-key-file": { type: "boolean" },
    },
    allowPositionals: false,
    strict: true,
  });
  const { to, "include-key-file": includeKeyFile, ...storage } = parsed.values;
  if (!to) {
    out.stderr(USAGE);
    return 2;
  }
  const config = await resolve(storage);
  if (config.databaseUrl) {
    out.stderr(
      "countersign backup copies the embedded SQLite database; back up PostgreSQL with its own tools " +
        "(pg_dump, or your provider's snapshots): see docs/operations.md",
    );
    return 2;
  }
  const source = join(config.dataDir, DB_FILE);
  if (!existsSync(source)) {
    out.stderr(`countersign: there is no database at ${source}`);
    return 1;
  }
  mkdirSync(to, { recursive: true });
  const target = join(to, DB_FILE);
  if (existsSync(target)) {
    out.stderr(`countersign: ${target} already exists; back up into an empty directory`);
    return 1;
  }

  // VACUUM INTO writes one read transaction's view of the database: consistent, and in WAL mode it
  // runs beside the server's writer without stopping it. The source is only read.
  const db = new DatabaseSync(source, { timeout: 5000 });
  try {
    db.prepare("VACUUM INTO ?").run(target);
  } finally {
    db.close();
  }
  syncToDisk(target, to);

  const copy = new DatabaseSync(target);
  let integrity: unknown;
  try {
    integrity = (copy.prepare("PRAGMA integrity_check").get() as { integrity_check?: unknown })
      .integrity_check;
  } finally {
    copy.close();
  }
  if (integrity !== "ok") {
    out.stderr(`countersign: the copy at ${target} fails SQLite's integrity check: ${String(integrity)}`);
    return 1;
  }
  const chain = await verifyAuditChain({ dataDir: to, databaseUrl: undefined });
  if (!chain.ok) {
    out.stderr(
      `countersign: the copy's audit chain is BROKEN at seq ${chain.first_broken_seq}: ${chain.reason}`,
    );
    return 1;
  }

  const keyFile = join(config.dataDir, KEY_FILE_NAME);
  const hasKeyFile = existsSync(keyFile);
  if (includeKeyFile && hasKeyFile) {
    const copied = join(to, KEY_FILE_NAME);
    copyFileSync(keyFile, copied);
    chmodSync(copied, 0o600);
    syncToDisk(copied, to);
  }
  out.stdout(
    `Backed up ${source} to ${target} (${statSync(target).size} bytes): integrity ok, ` +
      `audit chain intact (${chain.entries} entries, head ${chain.head_hash}).`,
  );
  if (includeKeyFile && hasKeyFile) {
    out.stdout(
      `The secret key file was copied too: ${join(to, KEY_FILE_NAME)} (keep it as safe as the data).`,
    );
  } else if (hasKeyFile && !env.COUNTERSIGN_SECRET_KEY) {
    out.stdout(
      `Not copied: ${keyFile}, which seals webhook secrets and approval-token signing keys. Keep it apart ` +
        "from this backup (or pass --include-key-file); restored without it, the server needs " +
        "`countersign secrets recover` and new webhook secrets.",
    );
  }
  return 0;
}

/** A file and its directory entry on disk before the command reports success. */
function syncToDisk(file: string, dir: string): void {
  for (const path of [file, dir]) {
    const fd = openSync(path, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}
