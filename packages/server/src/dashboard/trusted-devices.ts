import { createHmac, timingSafeEqual } from "node:crypto";

/** The cookie a browser gets after signing in, naming the account it signed in to. */
export const DEVICE_COOKIE = "cs_device";
/** How long a browser stays trusted for its account without signing in again. */
export const DEVICE_TTL_MS = 180 * 24 * 3600_000;

/**
 * Device cookies keep a person able to sign in while someone else is guessing their password.
 *
 * Failed sign-ins are limited per account; without more, anyone who knows an email address could
 * spend that allowance every fifteen minutes and lock its owner out indefinitely. A browser that
 * has signed in to an account before holds a token proving it, and its attempts for that account
 * are counted apart (per token), so the owner's usual browser is never locked out by strangers'
 * failures. Strangers, without the token, still share the per-account limit.
 *
 * The token is an HMAC of the account id and the time it was issued, keyed with the account's
 * stored password hash: nothing to store, it cannot be made without the database, and changing
 * the password (or upgrading its hash) retires every token issued before.
 */
export function deviceToken(account: { id: string; password_hash: string }, issuedAtMs: number): string {
  const issued = Math.floor(issuedAtMs / 1000).toString(36);
  return `${account.id}.${issued}.${mac(account, issued)}`;
}

/** Was this token issued to a browser that signed in to this account, and is it still fresh? */
export function isTrustedDevice(
  token: string | undefined,
  account: { id: string; password_hash: string },
  nowMs: number,
): boolean {
  if (!token || token.length > 200) return false;
  const [id, issued, sent, ...rest] = token.split(".");
  if (rest.length > 0 || id !== account.id || !issued || !sent || !/^[0-9a-z]{1,10}$/.test(issued)) {
    return false;
  }
  const issuedAtMs = Number.parseInt(issued, 36) * 1000;
  if (issuedAtMs > nowMs + 60_000 || nowMs - issuedAtMs > DEVICE_TTL_MS) return false;
  const expected = Buffer.from(mac(account, issued));
  const given = Buffer.from(sent);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The device cookie: sent only to the sign-in call, never readable by scripts or sent cross-site. */
export function deviceCookie(token: string, secure: boolean): string {
  const attributes = [`Max-Age=${DEVICE_TTL_MS / 1000}`, "Path=/v1/sessions", "HttpOnly", "SameSite=Strict"];
  if (secure) attributes.push("Secure");
  return [`${DEVICE_COOKIE}=${token}`, ...attributes].join("; ");
}

function mac(account: { id: string; password_hash: string }, issued: string): string {
  return createHmac("sha256", account.password_hash)
    .update(`countersign trusted device v1\n${account.id}\n${issued}`)
    .digest("base64url");
}
