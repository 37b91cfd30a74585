import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { Kysely, type SqliteDatabase, SqliteDialect, type SqliteStatement } from "kysely";
import { DurableReads } from "./durable-reads.ts";
import { GroupCommitStore } from "./group-commit-store.ts";
import { migrateToLatest } from "./migrations.ts";
import type { Database } from "./schema.ts";
import { WalSync } from "./wal-sync.ts";

/**
 * Adapts `node:sqlite`'s synchronous API to the interface Kysely's SqliteDialect expects. Written
 * here (about thirty lines) instead of adding a dialect package: it also caches prepared statements,
 * which the stock driver would otherwise re-prepare on every query of the hot path.
 */
export class NodeSqliteBridge implements SqliteDatabase {
  private readonly db: DatabaseSync;
  private readonly statements = new Map<string, SqliteStatement>();
  /** Runs synchronously each time a COMMIT through this bridge succeeds. */
  onCommit: (() => void) | undefined;

  constructor(db: DatabaseSync) {
    this.db = db;
  }

  /** Runs one statement at once: its rows for a query, none for a write. */
  execute(sqlText: string, parameters: readonly unknown[]): unknown[] {
    const statement = this.prepare(sqlText);
    if (statement.reader) return statement.all(parameters) as unknown[];
    statement.run(parameters);
    return [];
  }

  close(): void {
    this.statements.clear();
    this.db.close();
  }

  prepare(sqlText: string): SqliteStatement {
    // Kysely opens transactions with a plain (deferred) BEGIN. Another process (the CLI, a second
    // server) may write to the same file, and a deferred transaction that read first cannot then
    // upgrade to a writer without failing at once; BEGIN IMMEDIATE takes the write lock up front and
    // waits for it under the busy timeout instead.
    const text = sqlText.trim().toLowerCase() === "begin" ? "begin immediate" : sqlText;
    const cached = this.statements.get(text);
    if (cached) return cached;
    const prepared: StatementSync = this.db.prepare(text);
    const isCommit = text.trim().toLowerCase() === "commit";
    const statement: SqliteStatement = {
      reader: prepared.columns().length > 0,
      all: (params) => prepared.all(...(params as SqlParam[])),
      run: (params) => {
        const r = prepared.run(...(params as SqlParam[]));
        if (isCommit) this.onCommit?.();
        return { changes: r.changes, lastInsertRowid: r.lastInsertRowid };
      },
      iterate: (params) => prepared.iterate(...(params as SqlParam[])),
    };
    if (this.statements.size > 1000) this.statements.clear();
    this.statements.set(text, statement);
    return statement;
  }
}

type SqlParam = null | number | bigint | string | NodeJS.ArrayBufferView;

function openConnection(path: string): DatabaseSync {
  const db = new DatabaseSync(path, { timeout: 5000 });
  db.exec("PRAGMA journal_mode = WAL");
  // FULL: a commit is on disk (the WAL is fsynced) before COMMIT returns. The store's writer lowers
  // this to NORMAL once migrated and makes that fsync itself, off the event loop (see WalSync).
  db.exec("PRAGMA synchronous = FULL");
  db.exec("PRAGMA foreign_keys = ON");
  // Savepoint sub-journals (the group commit's fallback path) in memory, not in a temporary file:
  // they only serve a rollback inside a transaction and never need to survive a crash.
  db.exec("PRAGMA temp_store = MEMORY");
  return db;
}

export interface SqliteStoreOptions {
  /** Directory holding `countersign.db`; `:memory:` is refused because durability is the point. */
  dataDir: string;
  groupCommit?: boolean;
}

export async function openSqliteStore(options: SqliteStoreOptions): Promise<GroupCommitStore> {
  mkdirSync(options.dataDir, { recursive: true });
  const file = join(options.dataDir, "countersign.db");
  const writerConnection = openConnection(file);
  const writerBridge = new NodeSqliteBridge(writerConnection);
  const writer = new Kysely<Database>({ dialect: new SqliteDialect({ database: writerBridge }) });
  // Migrations commit with synchronous=FULL, so they are on disk before the WAL sync takes over.
  await migrateToLatest(writer as Kysely<unknown>);
  const wal = new WalSync(`${file}-wal`);
  writerBridge.onCommit = () => wal.committed();
  writerConnection.exec("PRAGMA synchronous = NORMAL");
  const readerConnection = openConnection(file);
  const reader = new Kysely<Database>({
    dialect: new SqliteDialect({ database: new NodeSqliteBridge(readerConnection) }),
    plugins: [new DurableReads(() => wal.durable())],
  });
  return new GroupCommitStore({
    dialect: "sqlite",
    writer,
    reader,
    groupCommit: options.groupCommit ?? true,
    executeInTransaction: (sqlText, parameters) => writerBridge.execute(sqlText, parameters),
    syncCommitted: () => wal.sync(),
    onClose: async () => {
      await reader.destroy();
      await writer.destroy();
      await wal.close();
    },
  });
}
