import { parseArgs } from "node:util";
import { type EscalationConfig, resolveEscalationConfig } from "./services/escalation-config.ts";
import { resolveWebhookConfig, type WebhookConfig } from "./webhooks/config.ts";

/** The webhook settings are optional here so configs built in code may leave them to defaults. */
export interface ServerConfig extends Partial<WebhookConfig>, EscalationConfig {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  policyFile: string | undefined;
  bootstrapAdminKey: string | undefined;
  logLevel: string;
  /** Calls per minute one authenticated caller (its key) may make; 0 is no limit. */
  rateLimitPerMinute?: number;
  /**
   * Calls per minute one client address may make without valid credentials (public routes, failed
   * authentication); 0 is no limit; unset: twice `rateLimitPerMinute`.
   */
  rateLimitPerIpPerMinute?: number;
  /** How often the expiry worker looks for requests past their TTL. */
  expirySweepMs: number;
}

export const SERVER_FLAGS = {
  port: { type: "string" },
  host: { type: "string" },
  data: { type: "string" },
  "database-url": { type: "string" },
  policy: { type: "string" },
  "log-level": { type: "string" },
  "outbound-allowlist": { type: "string" },
  "callback-allowlist": { type: "string" },
} as const;

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Flags win over environment variables, which win over defaults. */
export function resolveConfig(
  flags: Partial<Record<keyof typeof SERVER_FLAGS, string | undefined>>,
  env: NodeJS.ProcessEnv,
): ServerConfig {
  const portText = flags.port ?? env.COUNTERSIGN_PORT ?? "8080";
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`invalid port ${portText}`);
  const sweep = Number(env.COUNTERSIGN_EXPIRY_SWEEP_MS ?? "1000");
  if (!Number.isFinite(sweep) || sweep < 10)
    throw new ConfigError("COUNTERSIGN_EXPIRY_SWEEP_MS must be ≥ 10");
  const rateText = env.COUNTERSIGN_RATE_LIMIT_PER_MINUTE ?? "0";
  const rateLimitPerMinute = Number(rateText);
  if (!Number.isInteger(rateLimitPerMinute) || rateLimitPerMinute < 0) {
    throw new ConfigError(`COUNTERSIGN_RATE_LIMIT_PER_MINUTE must be a whole number ≥ 0, not ${rateText}`);
  }
  const ipRateText = env.COUNTERSIGN_RATE_LIMIT_PER_IP_PER_MINUTE;
  const rateLimitPerIpPerMinute =
    ipRateText === undefined || ipRateText.trim() === "" ? undefined : Number(ipRateText);
  if (
    rateLimitPerIpPerMinute !== undefined &&
    (!Number.isInteger(rateLimitPerIpPerMinute) || rateLimitPerIpPerMinute < 0)
  ) {
    throw new ConfigError(
      `COUNTERSIGN_RATE_LIMIT_PER_IP_PER_MINUTE must be a whole number ≥ 0, not ${ipRateText}`,
    );
  }
  return {
    port,
    rateLimitPerMinute,
    ...(rateLimitPerIpPerMinute !== undefined ? { rateLimitPerIpPerMinute } : {}),
    host: flags.host ?? env.COUNTERSIGN_HOST ?? "127.0.0.1",
    dataDir: flags.data ?? env.COUNTERSIGN_DATA_DIR ?? "./countersign-data",
    databaseUrl: emptyToUndefined(flags["database-url"] ?? env.DATABASE_URL),
    policyFile: emptyToUndefined(flags.policy ?? env.COUNTERSIGN_POLICY),
    bootstrapAdminKey: emptyToUndefined(env.COUNTERSIGN_BOOTSTRAP_ADMIN_KEY),
    logLevel: flags["log-level"] ?? env.COUNTERSIGN_LOG_LEVEL ?? "info",
    expirySweepMs: sweep,
    ...resolveWebhookConfig(
      { outbound: flags["outbound-allowlist"], callback: flags["callback-allowlist"] },
      env,
      (message) => new ConfigError(message),
    ),
    ...resolveEscalationConfig(env, (message) => new ConfigError(message)),
  };
}

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}

export function parseServerFlags(args: string[]) {
  return parseArgs({ args, options: SERVER_FLAGS, allowPositionals: false, strict: true }).values;
}
