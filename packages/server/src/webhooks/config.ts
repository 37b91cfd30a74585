import { parseRetrySchedule } from "./schedule.ts";
import { parseAllowlist } from "./ssrf.ts";

export interface WebhookConfig {
  /** CIDRs and host names outbound calls may reach although internal (`COUNTERSIGN_OUTBOUND_ALLOWLIST`). */
  outboundAllowlist: string[];
  /** Seconds before each attempt (`COUNTERSIGN_WEBHOOK_RETRY_SCHEDULE`); its length bounds the attempts. */
  webhookRetrySchedule: number[];
}

/**
 * The webhook part of the server configuration: `--outbound-allowlist` wins over the environment.
 * `fail` makes the configuration error type of the caller (so the CLI exits with its usage code).
 */
export function resolveWebhookConfig(
  allowlistFlag: string | undefined,
  env: NodeJS.ProcessEnv,
  fail: (message: string) => Error,
): WebhookConfig {
  const text = allowlistFlag ?? env.COUNTERSIGN_OUTBOUND_ALLOWLIST ?? "";
  const outboundAllowlist = text
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "");
  try {
    parseAllowlist(outboundAllowlist);
    return {
      outboundAllowlist,
      webhookRetrySchedule: parseRetrySchedule(env.COUNTERSIGN_WEBHOOK_RETRY_SCHEDULE),
    };
  } catch (error) {
    throw fail(error instanceof Error ? error.message : String(error));
  }
}
