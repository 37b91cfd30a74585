import { createHmac, timingSafeEqual } from "node:crypto";
import {
  type AuditActor,
  ForbiddenError,
  NotFoundError,
  type Principal,
  principalActor,
  sha256Hex,
  UnauthorizedError,
} from "@countersign/core";
import { normalizeIP } from "@fastify/rate-limit";
import type { FastifyRequest } from "fastify";
import { getKey } from "../repos/keys-repo.ts";
import type { ServiceDeps } from "../services/deps.ts";
import type { WriteContext } from "../storage/store.ts";
import { type AccountRecord, findAccountByEmail, rehashPassword } from "./accounts-repo.ts";
import type { DashboardOptions } from "./config.ts";
import { CSRF_HEADER, isCrossSite, readCookie, SESSION_COOKIE } from "./cookies.ts";
import { CsrfError, RateLimitedError } from "./errors.ts";
import { hashPassword, needsRehash, verifyAgainstNothing, verifyPassword } from "./passwords.ts";
import { AttemptLimiter, type LimitVerdict } from "./rate-limiter.ts";
import {
  deleteEndedSessions,
  findSessionByTokenHash,
  getSession,
  insertSession,
  listLiveSessions,
  revokeSession,
  type SessionRecord,
  touchSession,
} from "./sessions-repo.ts";
import { SharedAttemptLimiter } from "./shared-attempt-limiter.ts";
import { deviceToken, isTrustedDevice } from "./trusted-devices.ts";

/** A signed-in browser, as the authentication hook sees it. */
export interface AuthenticatedSession {
  id: string;
  account: AccountRecord;
  principal: Principal;
  expires_at: string;
  idle_expires_at: string;
  csrf_token: string;
}

export interface PublicSession {
  id: string;
  account_id: string;
  email: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  idle_expires_at: string;
  ip: string | null;
  user_agent: string | null;
  current: boolean;
}

export interface ClientMeta {
  ip: string;
  userAgent: string | undefined;
  /** The browser's device cookie, if it sent one (sign-in only). */
  deviceToken?: string | undefined;
}

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
/** last_seen_at is written at most this often, so browsing is not a write per request. */
const TOUCH_EVERY_MS = 60_000;
/** Ended sessions are deleted this long after their absolute expiry (the audit log keeps the history). */
const KEEP_ENDED_MS = 30 * 24 * 3600_000;

export function accountPrincipal(account: AccountRecord): Principal {
  return { key_id: account.key_id, name: account.email, role: account.role };
}

/**
 * Browser sessions: random 256-bit tokens in an httpOnly cookie, stored only as SHA-256, with an
 * idle and an absolute expiry, revocable one by one or all at once. The CSRF token is derived from
 * the session token (HMAC), so it needs no storage and dies with the session.
 */
export class SessionsService {
  private readonly deps: ServiceDeps;
  private readonly options: DashboardOptions;
  /** Every sign-in attempt from one address (bounds password guessing and scrypt work). */
  private readonly perIp: AttemptLimiter;
  /**
   * Attempts at one account from browsers it has not signed in from (`account:` keys), and from
   * each browser that has (`device:` keys, see trusted-devices.ts): in the database, shared by
   * every replica.
   */
  private readonly accountAttempts: SharedAttemptLimiter;

  constructor(deps: ServiceDeps, options: DashboardOptions) {
    this.deps = deps;
    this.options = options;
    this.perIp = new AttemptLimiter({ limit: 30, windowMs: 10 * 60_000, clock: deps.clock });
    this.accountAttempts = new SharedAttemptLimiter({
      store: deps.store,
      clock: deps.clock,
      limit: 10,
      windowMs: 15 * 60_000,
    });
  }

  private iso(ms = this.deps.clock.now()): string {
    return new Date(ms).toISOString();
  }

  /** Counts an attempt from this address, refusing it first if the address has used up its allowance. */
  checkRate(ip: string): void {
    // An IPv6 client usually holds a whole /64: counting each address alone would let it rotate
    // through them. IPv4-mapped addresses count as their IPv4 address.
    const address = normalizeIP(ip);
    refuseUnless(this.perIp.check(address));
    this.perIp.hit(address);
  }

  /**
   * Signs in. Attempts are limited per address, then per account, or per device token when the
   * browser has signed in to this account before (see trusted-devices.ts): strangers' failures
   * never lock the owner's browser out.
   */
  async signIn(
    input: { email: string; password: string },
    meta: ClientMeta,
  ): Promise<{ token: string; session: AuthenticatedSession }> {
    const email = input.email.trim().toLowerCase();
    this.checkRate(meta.ip);
    const account = await findAccountByEmail(this.deps.store.db, email);
    const now = this.deps.clock.now();
    const trusted = account !== undefined && isTrustedDevice(meta.deviceToken, account, now);
    const limitKey = trusted ? `device:${account.id} ${meta.deviceToken}` : `account:${email}`;
    // Counted before any password work; a spent allowance refuses even the right password.
    refuseUnless(await this.accountAttempts.take(limitKey));
    const key = account ? await getKey(this.deps.store.db, account.key_id) : undefined;
    // An account is disabled directly, or by revoking its key through the keys API.
    const usable = account !== undefined && account.disabled_at === null && key?.revoked_at === null;
    const ok = usable
      ? await verifyPassword(input.password, account.password_hash)
      : await verifyAgainstNothing(input.password);
    if (!account || !usable || !ok) {
      if (account) {
        await this.auditFailure(account, meta, usable ? "wrong_password" : "account_disabled", trusted);
      }
      throw new UnauthorizedError("wrong email or password");
    }
    await this.accountAttempts.reset(limitKey);
    const upgraded = needsRehash(account.password_hash) ? await hashPassword(input.password) : undefined;
    return this.deps.store.write(async (ctx) => {
      if (upgraded) await rehashPassword(ctx.db, account.id, account.password_hash, upgraded);
      await deleteEndedSessions(ctx.db, this.iso(this.deps.clock.now() - KEEP_ENDED_MS));
      return this.createInTx(ctx, upgraded ? { ...account, password_hash: upgraded } : account, meta);
    });
  }

  /** A device token for a browser that has just signed in to this account (its device cookie). */
  deviceTokenFor(account: AccountRecord): string {
    return deviceToken(account, this.deps.clock.now());
  }

  private async auditFailure(
    account: AccountRecord,
    meta: ClientMeta,
    reason: string,
    trustedDevice: boolean,
  ): Promise<void> {
    const actor: AuditActor = { type: "system", name: "sign-in" };
    await this.deps.store.write((ctx) =>
      ctx.appendAudit([
        {
          at: this.iso(),
          kind: "session.sign_in_failed",
          subject_id: account.id,
          correlation_id: null,
          actor,
          data: { email: account.email, reason, ip: meta.ip, trusted_device: trustedDevice },
        },
      ]),
    );
  }

  /** Opens a session for an account inside a larger unit of work (sign-in, invite acceptance). */
  async createInTx(
    ctx: WriteContext,
    account: AccountRecord,
    meta: ClientMeta,
  ): Promise<{ token: string; session: AuthenticatedSession }> {
    const now = this.deps.clock.now();
    const token = Buffer.from(this.deps.random.bytes(32)).toString("base64url");
    const record: SessionRecord = {
      id: this.deps.ids.next("ses"),
      account_id: account.id,
      token_hash: sha256Hex(token),
      created_at: this.iso(now),
      last_seen_at: this.iso(now),
      expires_at: this.iso(now + this.options.sessionAbsoluteMs),
      revoked_at: null,
      ip: meta.ip.slice(0, 100),
      user_agent: meta.userAgent?.slice(0, 300) ?? null,
    };
    await insertSession(ctx.db, record);
    const principal = accountPrincipal(account);
    await ctx.appendAudit([
      {
        at: record.created_at,
        kind: "session.created",
        subject_id: record.id,
        correlation_id: null,
        actor: principalActor(principal),
        data: { account_id: account.id, email: account.email, ip: record.ip, expires_at: record.expires_at },
      },
    ]);
    return { token, session: this.view(record, account, token) };
  }

  private idleExpiry(session: SessionRecord): string {
    const idle = Date.parse(session.last_seen_at) + this.options.sessionIdleMs;
    return this.iso(Math.min(idle, Date.parse(session.expires_at)));
  }

  private view(session: SessionRecord, account: AccountRecord, token: string): AuthenticatedSession {
    return {
      id: session.id,
      account,
      principal: accountPrincipal(account),
      expires_at: session.expires_at,
      idle_expires_at: this.idleExpiry(session),
      csrf_token: csrfTokenFor(token),
    };
  }

  /**
   * The session named by the request's cookie: undefined when there is no cookie, 401 when it is not
   * (or no longer) a live session. State-changing methods must carry the CSRF token (403 without).
   */
  async authenticate(request: FastifyRequest): Promise<AuthenticatedSession | undefined> {
    const token = readCookie(request, SESSION_COOKIE);
    if (token === undefined || token === "") return undefined;
    const session = await this.resolve(token);
    if (!session) throw new UnauthorizedError("your session has ended; sign in again");
    if (!SAFE_METHODS.has(request.method)) {
      if (isCrossSite(request)) {
        throw new ForbiddenError("cross-site requests cannot change anything");
      }
      const sent = request.headers[CSRF_HEADER];
      if (typeof sent !== "string" || !sameSecret(sent, session.csrf_token)) {
        throw new CsrfError(`a signed-in browser must send the session's CSRF token in ${CSRF_HEADER}`);
      }
    }
    return session;
  }

  private async resolve(token: string): Promise<AuthenticatedSession | undefined> {
    if (!TOKEN_PATTERN.test(token)) return undefined;
    const found = await findSessionByTokenHash(this.deps.store.db, sha256Hex(token));
    if (!found) return undefined;
    const { session, account } = found;
    const now = this.deps.clock.now();
    if (session.revoked_at !== null || account.disabled_at !== null || found.key_revoked_at !== null)
      return undefined;
    if (now >= Date.parse(session.expires_at) || now >= Date.parse(this.idleExpiry(session)))
      return undefined;
    if (now - Date.parse(session.last_seen_at) >= TOUCH_EVERY_MS) {
      const at = this.iso(now);
      await this.deps.store.write((ctx) => touchSession(ctx.db, session.id, at));
      session.last_seen_at = at;
    }
    return this.view(session, account, token);
  }

  /** Is the session still live? (Event streams re-check at every heartbeat.) */
  async isLive(id: string): Promise<boolean> {
    const session = await getSession(this.deps.store.db, id);
    if (!session || session.revoked_at !== null) return false;
    const now = this.deps.clock.now();
    return now < Date.parse(session.expires_at) && now < Date.parse(this.idleExpiry(session));
  }

  /** Live sessions: an admin may list anyone's, everyone else only their own. */
  async list(
    by: Principal,
    current: AuthenticatedSession | null,
    accountId?: string,
  ): Promise<PublicSession[]> {
    const own = current?.account.id;
    if (by.role !== "admin" && !own) return [];
    const scope = by.role === "admin" ? accountId : own;
    const now = this.deps.clock.now();
    const rows = await listLiveSessions(this.deps.store.db, this.iso(now), scope);
    return rows
      .map((s) => ({
        id: s.id,
        account_id: s.account_id,
        email: s.email,
        created_at: s.created_at,
        last_seen_at: s.last_seen_at,
        expires_at: s.expires_at,
        idle_expires_at: this.idleExpiry(s),
        ip: s.ip,
        user_agent: s.user_agent,
        current: s.id === current?.id,
      }))
      .filter((s) => Date.parse(s.idle_expires_at) > now);
  }

  /** Ends a session: one's own (sign-out, or another device), or anyone's for an admin. */
  async revoke(
    by: Principal,
    current: AuthenticatedSession | null,
    id: string,
    reason: "sign_out" | "revoked",
  ): Promise<void> {
    const at = this.iso();
    await this.deps.store.write(async (ctx) => {
      const session = await getSession(ctx.db, id);
      const mine = session !== undefined && session.account_id === current?.account.id;
      if (!session || (!mine && by.role !== "admin")) throw new NotFoundError(`no session ${id}`);
      if (!(await revokeSession(ctx.db, id, at))) return; // already ended: revoking again changes nothing
      await ctx.appendAudit([
        {
          at,
          kind: "session.revoked",
          subject_id: id,
          correlation_id: null,
          actor: principalActor(by),
          data: { account_id: session.account_id, reason },
        },
      ]);
    });
  }
}

function refuseUnless(verdict: LimitVerdict): void {
  if (!verdict.allowed) {
    throw new RateLimitedError(
      `too many attempts; try again in ${verdict.retryAfterSeconds} s`,
      verdict.retryAfterSeconds,
    );
  }
}

/** The CSRF token of a session: HMAC of a fixed label under the session's own secret token. */
export function csrfTokenFor(sessionToken: string): string {
  return createHmac("sha256", sessionToken).update("countersign csrf v1").digest("base64url");
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
