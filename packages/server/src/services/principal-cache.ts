import type { Principal } from "@countersign/core";

/** Change-bus subject announced after a key is revoked (on PostgreSQL, to every replica). */
export const KEYS_SUBJECT = "keys:changed";

/** How long an authenticated key is trusted without asking the database again. */
export const PRINCIPAL_TTL_MS = 1_000;
const MAX_ENTRIES = 10_000;

/**
 * Remembers, for a short while, which principal a key's secret hash belongs to, so the hot path
 * (every authenticated call) does not query the keys table each time. Only successful lookups are
 * remembered: a key created a moment ago (by the CLI, say) is found on its first use. Revocation
 * empties the cache through the change bus at once in this process and on every PostgreSQL replica;
 * the TTL bounds how long a revocation made where no signal reaches us (another process on the same
 * SQLite file) can go unnoticed.
 */
export class PrincipalCache {
  private readonly entries = new Map<string, { principal: Principal; until: number }>();
  private readonly now: () => number;
  private readonly ttlMs: number;

  constructor(now: () => number, ttlMs = PRINCIPAL_TTL_MS) {
    this.now = now;
    this.ttlMs = ttlMs;
  }

  get(secretHash: string): Principal | undefined {
    const entry = this.entries.get(secretHash);
    if (!entry) return undefined;
    if (entry.until <= this.now()) {
      this.entries.delete(secretHash);
      return undefined;
    }
    return entry.principal;
  }

  set(secretHash: string, principal: Principal): void {
    // Many distinct keys within one TTL is unusual; start over rather than track recency.
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(secretHash, { principal, until: this.now() + this.ttlMs });
  }

  clear(): void {
    this.entries.clear();
  }
}
