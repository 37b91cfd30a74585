import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from "node:crypto";
import { WorkGate } from "./work-gate.ts";

/**
 * Password hashing with scrypt (memory-hard), a per-password random salt and a constant-time
 * comparison. The parameters are stored with each hash so they can be raised later: a hash made
 * with older parameters still verifies and is upgraded at the next sign-in (`needsRehash`).
 */
export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  logN: number;
  r: number;
  p: number;
}

/** N = 2^15, r = 8: 32 MiB and tens of milliseconds per attempt. */
export const DEFAULT_SCRYPT: ScryptParams = { logN: 15, r: 8, p: 1 };

const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 1024;

/**
 * scrypt runs on libuv's thread pool (four threads unless UV_THREADPOOL_SIZE says otherwise), which
 * DNS lookups for webhook deliveries and file access need too: a burst of sign-ins from many
 * addresses may take at most two of its threads, and at most 32 MiB each.
 */
const derivations = new WorkGate({
  concurrency: 2,
  maxWaiting: 256,
  busyMessage: "too many passwords are being checked at once; try again shortly",
});

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const N = 2 ** params.logN;
  const options: ScryptOptions = { N, r: params.r, p: params.p, maxmem: 256 * N * params.r };
  return derivations.run(
    () =>
      new Promise((resolve, reject) =>
        // NFKC so the same password typed on different keyboards or systems hashes the same.
        scrypt(password.normalize("NFKC"), salt, KEY_LENGTH, options, (error, key) =>
          error ? reject(error) : resolve(key),
        ),
      ),
  );
}

export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const key = await derive(password, salt, params);
  return [
    "scrypt",
    params.logN,
    params.r,
    params.p,
    salt.toString("base64url"),
    key.toString("base64url"),
  ].join("$");
}

interface Parsed {
  params: ScryptParams;
  salt: Buffer;
  key: Buffer;
}

function parse(stored: string): Parsed | undefined {
  const [scheme, logN, r, p, salt, key] = stored.split("$");
  if (scheme !== "scrypt" || !salt || !key) return undefined;
  const params = { logN: Number(logN), r: Number(r), p: Number(p) };
  if (![params.logN, params.r, params.p].every((n) => Number.isInteger(n) && n > 0)) return undefined;
  if (params.logN > 22) return undefined;
  return { params, salt: Buffer.from(salt, "base64url"), key: Buffer.from(key, "base64url") };
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parse(stored);
  if (!parsed) return false;
  const key = await derive(password, parsed.salt, parsed.params);
  return key.length === parsed.key.length && timingSafeEqual(key, parsed.key);
}

export function needsRehash(stored: string, params: ScryptParams = DEFAULT_SCRYPT): boolean {
  const parsed = parse(stored);
  return (
    !parsed || parsed.params.logN < params.logN || parsed.params.r < params.r || parsed.params.p < params.p
  );
}

let dummy: Promise<string> | undefined;

/**
 * Spends the same time as a real check when there is no account to check against, so response times
 * do not tell which emails have accounts.
 */
export async function verifyAgainstNothing(password: string): Promise<false> {
  dummy ??= hashPassword("countersign-no-such-account");
  await verifyPassword(password, await dummy);
  return false;
}

/** Why a new password is refused, or null. Length is what matters (no composition rules). */
export function passwordProblem(password: string, email: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `use at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > MAX_PASSWORD_LENGTH) return `use at most ${MAX_PASSWORD_LENGTH} characters`;
  if (password.trim().toLowerCase() === email.toLowerCase()) return "the password cannot be your email";
  if (new Set(password).size < 4) return "the password repeats too few different characters";
  return null;
}
