import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Clock, Role } from "@countersign/core";
import pg from "pg";
import type { ServerConfig } from "../config.ts";
import { type RunningServer, startServer } from "../server.ts";
import { openPostgresStore } from "../storage/postgres.ts";
import { openSqliteStore } from "../storage/sqlite.ts";
import type { Store } from "../storage/store.ts";

export type StorageKind = "sqlite" | "postgres";

/** The PostgreSQL URL tests use, if any; CI sets it and must fail (not skip) if it is unreachable. */
export const TEST_DATABASE_URL = process.env.COUNTERSIGN_TEST_DATABASE_URL;

/** Storage kinds to run a suite against: always SQLite, PostgreSQL when configured. */
export const STORAGE_KINDS: StorageKind[] = TEST_DATABASE_URL ? ["sqlite", "postgres"] : ["sqlite"];

export interface TestStore {
  store: Store;
  /** Opens another store on the same database (a second replica, or a restart). */
  reopen(): Promise<Store>;
  /** Closes the store(s) and deletes the temporary database or schema. */
  cleanup(): Promise<void>;
}

/** A fresh, private database: a temp directory for SQLite, a new schema for PostgreSQL. */
export async function createTestStore(kind: StorageKind): Promise<TestStore> {
  const opened: Store[] = [];
  if (kind === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "countersign-test-"));
    const open = async () => {
      const s = await openSqliteStore({ dataDir: dir });
      opened.push(s);
      return s;
    };
    const store = await open();
    return {
      store,
      reopen: open,
      cleanup: async () => {
        for (const s of opened) await s.close().catch(() => {});
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  if (!TEST_DATABASE_URL) throw new Error("COUNTERSIGN_TEST_DATABASE_URL is not set");
  const url = TEST_DATABASE_URL;
  const schema = `cs_test_${randomBytes(6).toString("hex")}`;
  const open = () =>
    withSchemaLock(url, async () => {
      const s = await openPostgresStore({ connectionString: url, schema, poolSize: 5 });
      opened.push(s);
      return s;
    });
  const store = await open();
  return {
    store,
    reopen: open,
    cleanup: async () => {
      for (const s of opened) await s.close().catch(() => {});
      await withSchemaLock(url, async (client) => {
        await client.query(`drop schema if exists ${schema} cascade`);
      });
    },
  };
}

/**
 * Test files run in parallel, each creating and dropping its own schema. Migrations read the
 * catalogue across schemas, and a schema dropped in the middle of that read fails it ("schema …
 * does not exist"), so creating and dropping test schemas take turns under one advisory lock.
 */
async function withSchemaLock<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("select pg_advisory_lock(727274)");
    try {
      return await fn(client);
    } finally {
      await client.query("select pg_advisory_unlock(727274)");
    }
  } finally {
    await client.end();
  }
}

export interface TestServer {
  url: string;
  adminKey: string;
  server: RunningServer;
  testStore: TestStore;
  /** Creates a key through the API and returns its secret. */
  createKey(role: Role, name?: string): Promise<string>;
  close(): Promise<void>;
}

/** A server configuration for tests: a random loopback port, silent logs; `overrides` win. */
export function testServerConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  return {
    port: 0,
    host: "127.0.0.1",
    dataDir: "unused",
    databaseUrl: undefined,
    policyFile: undefined,
    bootstrapAdminKey: undefined,
    logLevel: "silent",
    expirySweepMs: 1000,
    ...overrides,
  };
}

/** A real server on a random loopback port over a private database. */
export async function startTestServer(
  options: { storage?: StorageKind; clock?: Clock; config?: Partial<ServerConfig> } = {},
): Promise<TestServer> {
  const testStore = await createTestStore(options.storage ?? "sqlite");
  const adminKey = `cs_admin_${randomBytes(32).toString("base64url")}`;
  const config = testServerConfig({ bootstrapAdminKey: adminKey, expirySweepMs: 50, ...options.config });
  const server = await startServer(config, {
    store: testStore.store,
    logger: false,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  let closed = false;
  return {
    url: server.url,
    adminKey,
    server,
    testStore,
    async createKey(role, name = `${role} ${randomBytes(3).toString("hex")}`) {
      const res = await fetch(`${server.url}/v1/keys`, {
        method: "POST",
        headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
        body: JSON.stringify({ role, name }),
      });
      if (res.status !== 201) throw new Error(`creating a key failed: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { secret: string }).secret;
    },
    async close() {
      if (closed) return;
      closed = true;
      await server.close();
      await testStore.cleanup();
    },
  };
}
