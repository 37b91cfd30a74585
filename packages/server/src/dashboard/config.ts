import { fileURLToPath } from "node:url";
import { DEFAULT_MAX_STREAMS, DEFAULT_MAX_STREAMS_PER_CALLER } from "./events-service.ts";

/** Settings of the dashboard feature; each has an environment variable (see docs/dashboard.md). */
export interface DashboardOptions {
  /** Where the built dashboard is (`packages/dashboard/dist`). */
  distDir: string;
  /** A session ends after this long without a request. */
  sessionIdleMs: number;
  /** A session ends this long after sign-in, however active. */
  sessionAbsoluteMs: number;
  /** How long an invite link stays usable unless the admin says otherwise. */
  inviteTtlMs: number;
  /**
   * Believe `x-forwarded-proto` and `x-forwarded-for` from the proxy in front of the server (to mark
   * cookies Secure behind a TLS-terminating proxy and to rate-limit per client address).
   */
  trustProxy: boolean;
  /** How often an idle event stream sends a heartbeat; every stream re-checks its credential as often. */
  heartbeatMs: number;
  /** Open event streams one caller (key, or a person's sessions) may hold at once. */
  maxStreamsPerCaller: number;
  /** Open event streams this process holds at once, all callers together. */
  maxStreams: number;
}

const HOUR = 3600_000;

export const DEFAULT_DIST_DIR = fileURLToPath(new URL("../../../dashboard/dist", import.meta.url));

export class DashboardConfigError extends Error {}

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number, unitMs: number): number {
  const text = env[name];
  if (text === undefined || text.trim() === "") return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0)
    throw new DashboardConfigError(`${name} must be a positive number`);
  return value * unitMs;
}

function count(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text.trim() === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0)
    throw new DashboardConfigError(`${name} must be a whole number greater than 0`);
  return value;
}

export function resolveDashboardOptions(env: NodeJS.ProcessEnv = process.env): DashboardOptions {
  const trust = (env.COUNTERSIGN_TRUST_PROXY ?? "").trim().toLowerCase();
  return {
    distDir: env.COUNTERSIGN_DASHBOARD_DIR?.trim() || DEFAULT_DIST_DIR,
    sessionIdleMs: positive(env, "COUNTERSIGN_SESSION_IDLE_MINUTES", 8 * HOUR, 60_000),
    sessionAbsoluteMs: positive(env, "COUNTERSIGN_SESSION_MAX_HOURS", 24 * HOUR, HOUR),
    inviteTtlMs: 7 * 24 * HOUR,
    trustProxy: trust === "1" || trust === "true" || trust === "yes",
    heartbeatMs: positive(env, "COUNTERSIGN_EVENTS_HEARTBEAT_SECONDS", 20_000, 1000),
    maxStreamsPerCaller: count(
      env,
      "COUNTERSIGN_EVENTS_MAX_STREAMS_PER_CALLER",
      DEFAULT_MAX_STREAMS_PER_CALLER,
    ),
    maxStreams: count(env, "COUNTERSIGN_EVENTS_MAX_STREAMS", DEFAULT_MAX_STREAMS),
  };
}
