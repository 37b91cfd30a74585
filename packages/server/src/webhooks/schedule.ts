/**
 * Retry schedule: entry i is the delay (seconds) before attempt i + 1, so the first entry is the
 * delay of the first attempt (normally 0: at once) and the length is the number of attempts before
 * a delivery is dead-lettered.
 */
export const DEFAULT_RETRY_SCHEDULE: readonly number[] = [0, 5, 300, 1800, 7200, 18000, 36000, 36000];

/** How far (±) each delay is jittered, so retries of many deliveries do not arrive in lockstep. */
export const JITTER = 0.1;

/** Parses `COUNTERSIGN_WEBHOOK_RETRY_SCHEDULE`: comma-separated seconds (fractions allowed). */
export function parseRetrySchedule(text: string | undefined): number[] {
  if (text === undefined || text.trim() === "") return [...DEFAULT_RETRY_SCHEDULE];
  const parts = text.split(",").map((p) => p.trim());
  const delays = parts.map(Number);
  if (parts.some((p) => p === "") || delays.some((d) => !Number.isFinite(d) || d < 0 || d > 7 * 86_400)) {
    throw new Error(
      `COUNTERSIGN_WEBHOOK_RETRY_SCHEDULE must be comma-separated seconds between 0 and 604800, got ${JSON.stringify(text)}`,
    );
  }
  if (delays.length < 1 || delays.length > 50) {
    throw new Error("COUNTERSIGN_WEBHOOK_RETRY_SCHEDULE must have between 1 and 50 entries");
  }
  return delays;
}

/**
 * The delay before the attempt after `attemptsMade` failed ones, jittered; undefined when the
 * schedule is exhausted (dead-letter).
 */
export function nextDelayMs(
  schedule: readonly number[],
  attemptsMade: number,
  random = Math.random,
): number | undefined {
  const seconds = schedule[attemptsMade];
  if (seconds === undefined) return undefined;
  const factor = 1 + (random() * 2 - 1) * JITTER;
  return Math.round(seconds * 1000 * factor);
}

/** How often to look for due retries: half the shortest positive delay, between 50 ms and 1 s. */
export function sweepIntervalMs(schedule: readonly number[]): number {
  const positive = schedule.filter((s) => s > 0);
  const shortest = positive.length > 0 ? Math.min(...positive) * 1000 : 1000;
  return Math.min(1000, Math.max(50, Math.floor(shortest / 2)));
}
