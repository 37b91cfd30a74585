import { randomBytes } from "node:crypto";
import { type Clock, IdGenerator, type RandomSource } from "@countersign/core";
import type { ServerConfig } from "./config.ts";
import type { Services } from "./http/services.ts";
import { ActionsService } from "./services/actions-service.ts";
import { AuditService } from "./services/audit-service.ts";
import { KeysService } from "./services/keys-service.ts";
import { RequestsService } from "./services/requests-service.ts";
import { openPostgresStore } from "./storage/postgres.ts";
import { openSqliteStore } from "./storage/sqlite.ts";
import type { Store } from "./storage/store.ts";

export const systemClock: Clock = { now: () => Date.now() };
export const systemRandom: RandomSource = { bytes: (n) => new Uint8Array(randomBytes(n)) };

export async function openStore(config: Pick<ServerConfig, "dataDir" | "databaseUrl">): Promise<Store> {
  if (config.databaseUrl) return openPostgresStore({ connectionString: config.databaseUrl });
  return openSqliteStore({ dataDir: config.dataDir });
}

export function createServices(
  store: Store,
  options: { clock?: Clock; random?: RandomSource } = {},
): Services {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? systemRandom;
  const deps = { store, clock, random, ids: new IdGenerator(clock, random) };
  return {
    store,
    keys: new KeysService(deps),
    requests: new RequestsService(deps),
    actions: new ActionsService(deps),
    audit: new AuditService(store),
  };
}
