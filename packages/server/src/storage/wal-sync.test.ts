import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { UnavailableError } from "@countersign/core";
import { CompiledQuery, Kysely, SqliteDialect } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { insertKey } from "../repos/keys-repo.ts";
import { agentKeyRecord } from "../testing/key-records.ts";
import { DurableReads } from "./durable-reads.ts";
import { GroupCommitStore } from "./group-commit-store.ts";
import { migrateToLatest } from "./migrations.ts";
import type { Database } from "./schema.ts";
import { NodeSqliteBridge, openSqliteStore } from "./sqlite.ts";
import { WalSync } from "./wal-sync.ts";

const dirs: string[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "countersign-wal-"));
  dirs.push(dir);
  return dir;
}

function deferred() {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A SQLite group-commit store whose post-commit sync the test completes by hand. */
async function storeWithManualSync() {
  const dir = tempDir();
  const file = join(dir, "countersign.db");
  const writerDb = new DatabaseSync(file);
  writerDb.exec("PRAGMA journal_mode = WAL");
  const writer = new Kysely<Database>({
    dialect: new SqliteDialect({ database: new NodeSqliteBridge(writerDb) }),
  });
  await migrateToLatest(writer as Kysely<unknown>);
  const reader = new Kysely<Database>({
    dialect: new SqliteDialect({ database: new NodeSqliteBridge(new DatabaseSync(file)) }),
  });
  const syncs: Array<ReturnType<typeof deferred>> = [];
  const store = new GroupCommitStore({
    dialect: "sqlite",
    writer,
    reader,
    syncCommitted: () => {
      const d = deferred();
      syncs.push(d);
      return d.promise;
    },
    onClose: async () => {
      await reader.destroy();
      await writer.destroy();
    },
  });
  cleanups.push(() => store.close());
  return { store, syncs };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

describe("group commit with a sync after COMMIT (SQLite)", () => {
  it("settles a batch's callers and runs its hooks only once the sync has finished", async () => {
    const { store, syncs } = await storeWithManualSync();
    const hooks: string[] = [];
    let settled = false;
    const write = store
      .write(async (ctx) => {
        await insertKey(ctx.db, agentKeyRecord("key_a"));
        ctx.afterCommit(() => hooks.push("after"));
        return "done";
      })
      .then((value) => {
        settled = true;
        return value;
      });
    await tick();
    expect(syncs).toHaveLength(1);
    expect(settled).toBe(false);
    expect(hooks).toEqual([]);
    // The next batch does not start while the previous one waits for its sync.
    void store.write(async (ctx) => insertKey(ctx.db, agentKeyRecord("key_b")));
    await tick();
    expect(syncs).toHaveLength(1);
    syncs[0]?.resolve();
    await expect(write).resolves.toBe("done");
    expect(hooks).toEqual(["after"]);
    await tick();
    expect(syncs).toHaveLength(2);
    syncs[1]?.resolve();
  });

  it("refuses every write after a failed sync, and reports not ready", async () => {
    const { store, syncs } = await storeWithManualSync();
    const write = store.write(async (ctx) => insertKey(ctx.db, agentKeyRecord("key_a")));
    await tick();
    syncs[0]?.reject(new Error("EIO: i/o error, fdatasync"));
    await expect(write).rejects.toBeInstanceOf(UnavailableError);
    await expect(write).rejects.toThrow(/could not be made durable.*EIO/);
    await expect(store.write(async () => "more")).rejects.toBeInstanceOf(UnavailableError);
    await expect(store.ping()).rejects.toBeInstanceOf(UnavailableError);
  });
});

describe("DurableReads", () => {
  it("holds a read's rows until the pending sync finishes, and fails it if the sync fails", async () => {
    const dir = tempDir();
    const file = join(dir, "reads.db");
    const db = new DatabaseSync(file);
    db.exec("create table t (v integer); insert into t values (1)");
    let pending: Promise<void> | undefined;
    const reader = new Kysely<{ t: { v: number } }>({
      dialect: new SqliteDialect({ database: new NodeSqliteBridge(new DatabaseSync(file)) }),
      plugins: [new DurableReads(() => pending)],
    });
    cleanups.push(() => reader.destroy());
    await expect(reader.selectFrom("t").select("v").execute()).resolves.toEqual([{ v: 1 }]);

    const sync = deferred();
    pending = sync.promise;
    let answered = false;
    const read = reader
      .selectFrom("t")
      .select("v")
      .execute()
      .then((rows) => {
        answered = true;
        return rows;
      });
    await tick();
    expect(answered).toBe(false);
    // Compiled queries run as they are (prebuilt templates, raw SQL) are held back the same way.
    let rawAnswered = false;
    const raw = reader
      .executeQuery<{ v: number }>(CompiledQuery.raw("select v from t", []))
      .then((result) => {
        rawAnswered = true;
        return result.rows;
      });
    await tick();
    expect(answered).toBe(false);
    expect(rawAnswered).toBe(false);
    sync.resolve();
    await expect(read).resolves.toEqual([{ v: 1 }]);
    await expect(raw).resolves.toEqual([{ v: 1 }]);

    const failing = deferred();
    pending = failing.promise;
    const failed = reader.selectFrom("t").select("v").execute();
    failing.reject(new Error("EIO"));
    await expect(failed).rejects.toBeInstanceOf(UnavailableError);
    db.close();
  });
});

describe("WalSync", () => {
  it("counts a commit durable only after a sync that started after it", async () => {
    const dir = tempDir();
    const file = join(dir, "w.db");
    const db = new DatabaseSync(file);
    db.exec("PRAGMA journal_mode = WAL; create table t (v integer)");
    const wal = new WalSync(`${file}-wal`);
    cleanups.push(() => wal.close());
    expect(wal.durable()).toBeUndefined();
    db.exec("insert into t values (1)");
    wal.committed();
    const waiting = wal.durable();
    expect(waiting).toBeInstanceOf(Promise);
    await wal.sync();
    await expect(waiting).resolves.toBeUndefined();
    expect(wal.durable()).toBeUndefined();
    expect(wal.stats.syncs).toBe(1);
    // Two syncs asked for at once run one after the other, the second covering later commits.
    wal.committed();
    const first = wal.sync();
    wal.committed();
    const second = wal.sync();
    const afterBoth = wal.durable();
    await Promise.all([first, second, afterBoth]);
    expect(wal.stats.syncs).toBe(3);
    expect(wal.durable()).toBeUndefined();
    db.close();
  });

  it("keeps syncing the store's live WAL file across checkpoints that truncate it", async () => {
    const dir = tempDir();
    const store = await openSqliteStore({ dataDir: dir });
    cleanups.push(() => store.close());
    const wal = join(dir, "countersign.db-wal");
    for (let i = 0; i < 50; i++)
      await store.write(async (ctx) => insertKey(ctx.db, agentKeyRecord(`key_${i}`)));
    expect(statSync(wal).size).toBeGreaterThan(0);
    // A checkpoint that truncates the WAL keeps the same file (inode), which the sync keeps using.
    const before = statSync(wal).ino;
    const check = new DatabaseSync(join(dir, "countersign.db"));
    check.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    check.close();
    expect(statSync(wal).ino).toBe(before);
    await store.write(async (ctx) => insertKey(ctx.db, agentKeyRecord("key_after")));
    const rows = await store.db.selectFrom("keys").select("id").where("id", "=", "key_after").execute();
    expect(rows).toHaveLength(1);
  });
});
