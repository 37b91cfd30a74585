import type { RandomSource } from "./clock.ts";
import { sha256Hex } from "./hash.ts";

export const ROLES = ["admin", "agent", "reviewer"] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

const SECRET_PATTERN = /^cs_(admin|agent|reviewer)_[A-Za-z0-9_-]{32,}$/;

/** A new key secret: `cs_<role>_<43 chars of base64url>` (256 bits). Shown once, stored only hashed. */
export function generateKeySecret(role: Role, random: RandomSource): string {
  return `cs_${role}_${Buffer.from(random.bytes(32)).toString("base64url")}`;
}

export function looksLikeKeySecret(secret: string): boolean {
  return SECRET_PATTERN.test(secret);
}

/**
 * Keys are 256-bit random secrets, so a fast hash is enough (no password stretching needed) and
 * lets every request be authenticated with one indexed lookup.
 */
export function hashKeySecret(secret: string): string {
  return sha256Hex(secret);
}

/** The visible part of a key, safe to list: `cs_agent_AbCd…` */
export function keyHint(secret: string): string {
  const prefix = secret.slice(0, secret.indexOf("_", 3) + 1);
  return `${prefix}${secret.slice(prefix.length, prefix.length + 4)}…`;
}
