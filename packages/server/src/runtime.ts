import { randomFillSync } from "node:crypto";
import { type Clock, IdGenerator, type RandomSource } from "@countersign/core";
import type { ServerConfig } from "./config.ts";
import { createDashboard } from "./dashboard/index.ts";
import type { Services } from "./http/services.ts";
import { Metrics } from "./metrics/metrics.ts";
import { ActionsService } from "./services/actions-service.ts";
import { AuditService } from "./services/audit-service.ts";
import { GovernService } from "./services/govern-service.ts";
import { governanceHooks } from "./services/governance-hooks.ts";
import { GrantsService } from "./services/grants-service.ts";
import { KeysService } from "./services/keys-service.ts";
import { KillSwitchService } from "./services/kill-switch-service.ts";
import { PolicyService } from "./services/policy-service.ts";
import { type RequestsOptions, RequestsService } from "./services/requests-service.ts";
import { ReviewersService } from "./services/reviewers-service.ts";
import { RoutingService } from "./services/routing-service.ts";
import { type SecretKeyOptions, SharedSecretBox } from "./services/secret-box.ts";
import { SigningKeysService } from "./services/signing-keys-service.ts";
import { TokensService } from "./services/tokens-service.ts";
import { openPostgresStore } from "./storage/postgres.ts";
import { openSqliteStore } from "./storage/sqlite.ts";
import type { Store } from "./storage/store.ts";
import { WebhooksService } from "./webhooks/service.ts";

export const systemClock: Clock = { now: () => Date.now() };
/**
 * Cryptographically secure bytes, drawn from a pool refilled 4 KiB at a time: every id on the hot
 * path needs ten, and one system call per id cost more than the rest of making it. Each byte is
 * handed out once, as a copy, so no caller can see or alter another's.
 */
class PooledRandom implements RandomSource {
  private readonly pool = new Uint8Array(4096);
  private offset = this.pool.length;

  bytes(n: number): Uint8Array {
    if (n > this.pool.length / 4) return randomFillSync(new Uint8Array(n));
    if (this.offset + n > this.pool.length) {
      randomFillSync(this.pool);
      this.offset = 0;
    }
    const out = this.pool.slice(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }
}

export const systemRandom: RandomSource = new PooledRandom();

export async function openStore(config: Pick<ServerConfig, "dataDir" | "databaseUrl">): Promise<Store> {
  if (config.databaseUrl) return openPostgresStore({ connectionString: config.databaseUrl });
  return openSqliteStore({ dataDir: config.dataDir });
}

export function createServices(
  store: Store,
  options: {
    clock?: Clock;
    random?: RandomSource;
    escalation?: RequestsOptions["escalation"];
    /** Where the secret box's key comes from (the SQLite data directory for its key file). */
    secretKey?: SecretKeyOptions;
  } = {},
): Services {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? systemRandom;
  const deps = { store, clock, random, ids: new IdGenerator(clock, random) };
  const requests = new RequestsService(deps, { escalation: options.escalation });
  const policy = new PolicyService(deps);
  const killSwitch = new KillSwitchService(deps);
  const grants = new GrantsService(deps, policy);
  // One box seals webhook secrets and signing keys; the signing keys open it first, on start.
  const secretBox = new SharedSecretBox(deps, options.secretKey);
  const signingKeys = new SigningKeysService(deps, { secretBox });
  const tokens = new TokensService(deps, signingKeys, { killSwitch });
  requests.addHooks(governanceHooks(policy, tokens, clock));
  const webhooks = new WebhooksService(deps, secretBox);
  requests.checkCallbackUrlsWith((url) => webhooks.outbox.checkCallbackUrl(url));
  return {
    store,
    keys: new KeysService(deps),
    requests,
    reviewers: new ReviewersService(deps),
    routing: new RoutingService(deps),
    actions: new ActionsService(deps),
    audit: new AuditService(store),
    policy,
    killSwitch,
    grants,
    govern: new GovernService(deps, { policy, killSwitch, grants, requests }),
    signingKeys,
    tokens,
    metrics: new Metrics(store),
    webhooks,
    dashboard: createDashboard(deps, requests),
  };
}
