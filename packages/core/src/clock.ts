/**
 * The domain never reads the wall clock or a random source directly: both are injected so that
 * tests can drive time (shift boundaries, expiry, escalation) and ids deterministically.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export interface RandomSource {
  /** Fills a fresh buffer with `length` cryptographically strong random bytes. */
  bytes(length: number): Uint8Array;
}

/** A clock a test can set and advance by hand. */
export class ManualClock implements Clock {
  private current: number;
  constructor(start: number | Date = Date.UTC(2026, 0, 1)) {
    this.current = typeof start === "number" ? start : start.getTime();
  }
  now(): number {
    return this.current;
  }
  set(at: number | Date): void {
    this.current = typeof at === "number" ? at : at.getTime();
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

/** RFC 3339 UTC timestamp with millisecond precision; sorts lexicographically in time order. */
export function isoAt(ms: number): string {
  return new Date(ms).toISOString();
}
