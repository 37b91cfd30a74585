import type { Clock, RandomSource } from "@countersign/core";
import type { FastifyServerOptions } from "fastify";
import type { ServerConfig } from "./config.ts";
import { buildApp } from "./http/app.ts";
import type { App } from "./http/app-type.ts";
import type { Services } from "./http/services.ts";
import { createServices, openStore } from "./runtime.ts";
import type { Store } from "./storage/store.ts";
import { PeriodicWorker } from "./workers/periodic.ts";

export interface RunningServer {
  app: App;
  services: Services;
  url: string;
  /** The admin key created on this start (first start only), or null. */
  createdAdminKey: string | null;
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: FastifyServerOptions["logger"];
  /** Use this store instead of opening one from the configuration (tests). */
  store?: Store;
  clock?: Clock;
  random?: RandomSource;
}

export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  const store = options.store ?? (await openStore(config));
  // The SQLite data directory holds the secret box's key file (unless COUNTERSIGN_SECRET_KEY is set).
  const keyDir = options.store || config.databaseUrl ? undefined : config.dataDir;
  const services = createServices(store, {
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.random ? { random: options.random } : {}),
    escalation: config.escalation,
    secretKey: { keyDir },
  });
  let app: App | undefined;
  try {
    const createdAdminKey = await services.keys.ensureAdmin(config.bootstrapAdminKey);
    app = await buildApp({
      services,
      logger: options.logger ?? { level: config.logLevel },
      rateLimitPerMinute: config.rateLimitPerMinute ?? 0,
      ...(config.rateLimitPerIpPerMinute !== undefined
        ? { rateLimitPerIpPerMinute: config.rateLimitPerIpPerMinute }
        : {}),
    });
    const log = app.log;
    await services.policy.init(config.policyFile);
    // Opens the secret box (shared with webhooks) before loading the keys sealed in it.
    await services.signingKeys.start((error) => log.error({ err: error }, "signing key refresh failed"));
    // Webhook delivery: stopped by the app's close, before storage closes (in-flight attempts record).
    await services.webhooks.start(config, {
      keyDir,
      onError: (error, context) => log.error({ err: error }, `${context} failed`),
    });
    app.addHook("onClose", () => services.webhooks.stop());
    const expiry = new PeriodicWorker({
      name: "expiry",
      intervalMs: config.expirySweepMs,
      // Expiry and escalation share the worker: both are durable sweeps over pending requests.
      tick: async () => {
        const expired = await services.requests.expireDue(200);
        const escalated = await services.requests.escalateDue(200);
        return expired === 200 || escalated === 200;
      },
      onError: (error) => log.error({ err: error }, "expiry sweep failed"),
    });
    const address = await app.listen({ port: config.port, host: config.host });
    expiry.start();
    const running = app;
    let closing: Promise<void> | undefined;
    return {
      app: running,
      services,
      url: address,
      createdAdminKey,
      close: () => {
        closing ??= (async () => {
          // Stop taking requests and let in-flight ones finish, then stop workers, then flush and
          // close storage: every write already acknowledged or accepted reaches the disk.
          await running.close();
          await services.signingKeys.stop();
          services.policy.close();
          services.metrics.close();
          await expiry.stop();
          await store.close();
        })();
        return closing;
      },
    };
  } catch (error) {
    await services.signingKeys.stop().catch(() => {});
    await app?.close().catch(() => {});
    await store.close().catch(() => {});
    throw error;
  }
}
