import { ValidationError } from "../errors.ts";
import { DEFAULT_CLOCK_SKEW_SECONDS } from "./claims.ts";
import { SigningKeyError } from "./errors.ts";
import type { PublishedSigningKey, SigningKeyRecord } from "./signing-key.ts";

/*
 * Rotation: a new key starts signing, the old one is retired but stays in the JWKS, because
 * tokens it already signed must keep verifying until they expire. Only once the longest-lived of
 * those tokens is past its expiry (plus the clock skew a verifier tolerates) may it be dropped.
 */

/** The key new tokens are signed with: the most recently created key that is not retired. */
export function activeSigningKey(keys: readonly SigningKeyRecord[]): SigningKeyRecord {
  let active: SigningKeyRecord | undefined;
  for (const key of keys) {
    if (key.retired_at !== null) continue;
    if (active === undefined || Date.parse(key.created_at) > Date.parse(active.created_at)) active = key;
  }
  if (active === undefined) throw new SigningKeyError("no active signing key: every key is retired");
  return active;
}

/** The key, retired at `retiredAt`. Retiring twice keeps the first time, so the drop date never moves. */
export function retireSigningKey<K extends PublishedSigningKey>(key: K, retiredAt: string): K {
  if (key.retired_at !== null) return key;
  assertTimestamp(retiredAt, "retired_at");
  return { ...key, retired_at: retiredAt };
}

/** The keyring after `next` takes over signing at `at`: every key active until now is retired. */
export function rotateSigningKeys(
  keys: readonly SigningKeyRecord[],
  next: SigningKeyRecord,
  at: string,
): SigningKeyRecord[] {
  if (next.retired_at !== null) throw new SigningKeyError(`signing key ${next.kid} is already retired`);
  if (keys.some((key) => key.kid === next.kid)) {
    throw new SigningKeyError(`signing key ${next.kid} is already in the keyring`);
  }
  return [...keys.map((key) => retireSigningKey(key, at)), next];
}

/**
 * When a retired key may leave the JWKS (ms since the epoch), or `null` while it is still active.
 * `maxTokenLifetimeSeconds` must be the longest `exp - iat` the issuer ever signs: a token signed
 * just before retirement lives that long, and verifiers accept it for the clock skew beyond.
 */
export function signingKeyDroppableAt(
  key: PublishedSigningKey,
  maxTokenLifetimeSeconds: number,
  clockSkewSeconds: number = DEFAULT_CLOCK_SKEW_SECONDS,
): number | null {
  if (key.retired_at === null) return null;
  if (!(maxTokenLifetimeSeconds >= 0) || !(clockSkewSeconds >= 0)) {
    throw new ValidationError("token lifetime and clock skew must be non-negative seconds");
  }
  return Date.parse(key.retired_at) + (maxTokenLifetimeSeconds + clockSkewSeconds) * 1000;
}

/** The keys still needed at `now` (ms): active keys and retired keys whose tokens may still be live. */
export function pruneSigningKeys<K extends PublishedSigningKey>(
  keys: readonly K[],
  now: number,
  maxTokenLifetimeSeconds: number,
  clockSkewSeconds: number = DEFAULT_CLOCK_SKEW_SECONDS,
): K[] {
  return keys.filter((key) => {
    const droppableAt = signingKeyDroppableAt(key, maxTokenLifetimeSeconds, clockSkewSeconds);
    return droppableAt === null || now < droppableAt;
  });
}

function assertTimestamp(value: string, path: string): void {
  if (Number.isNaN(Date.parse(value))) {
    throw new ValidationError(`${path} must be an RFC 3339 timestamp`, [
      { path, message: "not a timestamp" },
    ]);
  }
}
