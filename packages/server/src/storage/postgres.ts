import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { ChangeBus } from "./change-bus.ts";
import { GroupCommitStore } from "./group-commit-store.ts";
import { migrateToLatest } from "./migrations.ts";
import type { Database } from "./schema.ts";

const CHANNEL = "countersign_changes";
/** How often waiters are woken anyway, in case a NOTIFY was lost with a dropped connection. */
const FALLBACK_WAKE_MS = 5000;

export interface PostgresStoreOptions {
  connectionString: string;
  /** Schema to use (created if missing); lets tests and tenants share one database safely. */
  schema?: string;
  poolSize?: number;
  groupCommit?: boolean;
}

// PostgreSQL's bigint (int8) arrives as a string by default; our sequence numbers fit in a double.
pg.types.setTypeParser(20, (value: string) => Number(value));

export async function openPostgresStore(options: PostgresStoreOptions): Promise<GroupCommitStore> {
  const schema = options.schema;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new Error(`invalid schema name ${JSON.stringify(schema)}`);
  }
  const searchPath = schema ? `-c search_path=${schema}` : undefined;
  if (schema) {
    const admin = new pg.Client({ connectionString: options.connectionString });
    await admin.connect();
    try {
      await admin.query(`create schema if not exists ${schema}`);
    } finally {
      await admin.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize ?? 10,
    ...(searchPath ? { options: searchPath } : {}),
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const current = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  await migrateToLatest(db as Kysely<unknown>, current.rows[0]?.schema ?? schema ?? "public");

  const changes = new ChangeBus();
  const listener = new ChangeListener(options.connectionString, searchPath, changes);
  await listener.start();

  return new GroupCommitStore({
    dialect: "postgres",
    writer: db,
    reader: db,
    groupCommit: options.groupCommit ?? true,
    changes,
    notify: async (trx, ids) => {
      // Delivered to every listening replica when (and only if) the transaction commits.
      for (const id of ids) await sql`select pg_notify(${channelFor(schema)}, ${id})`.execute(trx);
    },
    onClose: async () => {
      await listener.stop();
      await db.destroy();
    },
  });
}

function channelFor(schema: string | undefined): string {
  return schema ? `${CHANNEL}_${schema}` : CHANNEL;
}

/**
 * Holds one dedicated connection in LISTEN mode and feeds the in-process change bus. If the
 * connection drops it reconnects with backoff and wakes every waiter (they re-read their rows), and a
 * slow periodic wake covers any signal lost in between.
 */
class ChangeListener {
  private client: pg.Client | undefined;
  private stopped = false;
  private fallback: NodeJS.Timeout | undefined;
  private readonly connectionString: string;
  private readonly searchPath: string | undefined;
  private readonly bus: ChangeBus;
  private readonly channel: string;

  constructor(connectionString: string, searchPath: string | undefined, bus: ChangeBus) {
    this.connectionString = connectionString;
    this.searchPath = searchPath;
    this.bus = bus;
    this.channel = channelFor(searchPath?.split("=")[1]);
  }

  async start(): Promise<void> {
    await this.connect();
    this.fallback = setInterval(() => this.bus.publishEverything(), FALLBACK_WAKE_MS);
    this.fallback.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.fallback) clearInterval(this.fallback);
    await this.client?.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.connectionString,
      ...(this.searchPath ? { options: this.searchPath } : {}),
    });
    client.on("notification", (msg) => {
      if (msg.payload) this.bus.publish(msg.payload);
    });
    client.on("error", () => this.reconnect(client));
    client.on("end", () => this.reconnect(client));
    await client.connect();
    await client.query(`listen ${this.channel}`);
    this.client = client;
  }

  private reconnect(dead: pg.Client, delayMs = 250): void {
    if (this.stopped || this.client !== dead) return;
    this.client = undefined;
    setTimeout(() => {
      if (this.stopped) return;
      this.connect()
        .then(() => this.bus.publishEverything())
        .catch(() => {
          this.client = dead;
          this.reconnect(dead, Math.min(delayMs * 2, 10_000));
        });
    }, delayMs).unref();
  }
}
