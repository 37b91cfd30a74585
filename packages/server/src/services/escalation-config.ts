import {
  DEFAULT_ESCALATION,
  type EscalationDefaults,
  MAX_ESCALATE_AFTER_SECONDS,
  PRIORITIES,
  type Priority,
} from "@countersign/core";

/** The server configuration's escalation part (merged into ServerConfig). */
export interface EscalationConfig {
  /** Seconds before a pending request escalates, per priority; null: never. Unset: DEFAULT_ESCALATION. */
  escalation?: Partial<EscalationDefaults>;
}

/**
 * Reads `COUNTERSIGN_ESCALATE_<PRIORITY>_SECONDS` (URGENT, HIGH, NORMAL, LOW): whole seconds, or
 * `off` for never. Unset or empty keeps the default (urgent 180, high 600, normal 1800, low never).
 */
export function resolveEscalationConfig(
  env: NodeJS.ProcessEnv,
  fail: (message: string) => Error,
): EscalationConfig {
  const escalation: Partial<EscalationDefaults> = {};
  for (const priority of PRIORITIES) {
    const name = envName(priority);
    const text = env[name]?.trim();
    if (!text) continue;
    if (text === "off" || text === "never") {
      escalation[priority] = null;
      continue;
    }
    const seconds = Number(text);
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_ESCALATE_AFTER_SECONDS) {
      throw fail(`${name} must be whole seconds between 1 and ${MAX_ESCALATE_AFTER_SECONDS}, or off`);
    }
    escalation[priority] = seconds;
  }
  return Object.keys(escalation).length > 0 ? { escalation } : {};
}

export function envName(priority: Priority): string {
  return `COUNTERSIGN_ESCALATE_${priority.toUpperCase()}_SECONDS`;
}

/** The effective delays: configured values over the defaults. */
export function effectiveEscalation(config: EscalationConfig): EscalationDefaults {
  return { ...DEFAULT_ESCALATION, ...config.escalation };
}
