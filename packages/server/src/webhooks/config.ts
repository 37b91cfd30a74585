import { parseRetrySchedule } from "./schedule.ts";
import { parseAllowlist } from "./ssrf.ts";

export interface WebhookConfig {
  /**
   * CIDRs and host names admins' webhook endpoints may reach although internal
   * (`COUNTERSIGN_OUTBOUND_ALLOWLIST`).
   */
  outboundAllowlist: string[];
  /**
   * The same for agents' `callback_url`s (`COUNTERSIGN_CALLBACK_ALLOWLIST`), kept apart: an agent
   * names its callback URL itself, so an internal service opened to admins' webhooks must not
   * become reachable by any agent key too. Empty unless set.
   */
  callbackAllowlist: string[];
  /** Seconds before each attempt (`COUNTERSIGN_WEBHOOK_RETRY_SCHEDULE`); its length bounds the attempts. */
  webhookRetrySchedule: number[];
}

/**
 * The webhook part of the server configuration: `--outbound-allowlist` and `--callback-allowlist`
 * win over the environment. `fail` makes the configuration error type of the caller (so the CLI
 * exits with its usage code).
 */
export function resolveWebhookConfig(
  flags: { outbound?: string | undefined; callback?: string | undefined },
  env: NodeJS.ProcessEnv,
  fail: (message: string) => Error,
): WebhookConfig {
  const list = (text: string | undefined) =>
    (text ?? "")
      .split(",")
      .map((e) => e.trim())
      .filter((e) => e !== "");
  const outboundAllowlist = list(flags.outbound ?? env.COUNTERSIGN_OUTBOUND_ALLOWLIST);
  const callbackAllowlist = list(flags.callback ?? env.COUNTERSIGN_CALLBACK_ALLOWLIST);
  try {
    parseAllowlist(outboundAllowlist);
    parseAllowlist(callbackAllowlist);
    return {
      outboundAllowlist,
      callbackAllowlist,
      webhookRetrySchedule: parseRetrySchedule(env.COUNTERSIGN_WEBHOOK_RETRY_SCHEDULE),
    };
  } catch (error) {
    throw fail(error instanceof Error ? error.message : String(error));
  }
}
