import { DomainError } from "@countersign/core";
import rateLimit, { normalizeIP } from "@fastify/rate-limit";
import type { FastifyReply, FastifyRequest } from "fastify";
import { clientIp } from "../dashboard/cookies.ts";
import type { App } from "./app-type.ts";

export interface RateLimits {
  /** Calls per minute one authenticated caller (API key, or a person's sessions) may make; 0: off. */
  perPrincipal: number;
  /**
   * Calls per minute one client address may make without valid credentials (public routes, unknown
   * routes, failed authentication); 0: off. Once spent, the address is refused before any
   * credential it sends is looked at, until the window passes.
   */
  perIp: number;
  /** Take the client address from `X-Forwarded-For` as appended by a trusted proxy. */
  trustProxy: boolean;
}

/** The per-address limit when none is configured: twice the per-caller limit (off when that is). */
export function defaultPerIpLimit(perPrincipal: number): number {
  return perPrincipal * 2;
}

const WINDOW_MS = 60_000;
/** Counters kept per limit (least recently used dropped first). */
const CACHE = 50_000;

type Limiter = ReturnType<App["createRateLimit"]>;
type Verdict = Awaited<ReturnType<Limiter>>;

/**
 * Two limits, per process (with N replicas a caller may make up to N times as many calls):
 *
 * - per client address, checked in the first onRequest hook, before authentication: calls that
 *   carry no valid credential count against it (public and unknown routes when they arrive, failed
 *   authentications when they are answered), so a flood of bad or made-up keys from one address is
 *   refused without looking the keys up;
 * - per authenticated caller (its key id), counted once authentication has named the caller, so
 *   every spelling of the same credential shares one count.
 *
 * Nothing is taken from the credential headers themselves. Health and readiness probes are never
 * limited. Call before any other onRequest hook is added, so the address check runs first.
 */
export async function installRateLimit(app: App, limits: RateLimits): Promise<void> {
  if (limits.perPrincipal <= 0 && limits.perIp <= 0) return;
  // Used only for its counters: no route gets the plugin's own hook (`global: false`).
  await app.register(rateLimit, { global: false });
  const counted = new WeakSet<FastifyRequest>();
  const limiter = (max: number, key: (req: FastifyRequest) => string): Limiter | undefined => {
    if (max <= 0) return undefined;
    // `cache` is read by the plugin's store for each limiter, though its types leave it out.
    const options: Parameters<App["createRateLimit"]>[0] & { cache: number } = {
      max,
      timeWindow: WINDOW_MS,
      cache: CACHE,
      keyGenerator: key,
    };
    return app.createRateLimit(options);
  };
  const perIp = limiter(limits.perIp, (req) => `ip:${normalizeIP(clientIp(req, limits.trustProxy))}`);
  const perPrincipal = limiter(limits.perPrincipal, (req) => `key:${req.principal?.key_id ?? ""}`);
  const exempt = (req: FastifyRequest) =>
    req.routeOptions.url === "/healthz" || req.routeOptions.url === "/readyz";

  app.addHook("onRequest", async (req, reply) => {
    if (!perIp || exempt(req)) return;
    if (!req.routeOptions.config.roles) {
      // No credentials asked for (sign-in, invite links, static files, unknown routes): count now.
      counted.add(req);
      refuseIfExceeded(reply, await perIp(req), "from this address");
      return;
    }
    // An address that has spent its allowance is refused before its credential is looked up.
    const spent = await perIp(req, { increment: false });
    if (!spent.isAllowed && spent.remaining === 0) {
      counted.add(req);
      refuse(reply, spent, "without valid credentials from this address");
    }
  });

  // After every onRequest hook (the HumanLayer API authenticates in its own), before the body is read.
  app.addHook("preParsing", async (req, reply) => {
    if (!perPrincipal || !req.principal || counted.has(req) || exempt(req)) return;
    counted.add(req);
    const verdict = await perPrincipal(req);
    if (!verdict.isAllowed) {
      reply.header("x-ratelimit-limit", verdict.max);
      reply.header("x-ratelimit-remaining", verdict.remaining);
      reply.header("x-ratelimit-reset", verdict.ttlInSeconds);
    }
    refuseIfExceeded(reply, verdict, "for this caller");
  });

  // Calls answered before the count above: failed authentication counts against the address, a
  // caller refused its route (403) against the caller.
  app.addHook("onSend", async (req, _reply, payload) => {
    if (counted.has(req) || exempt(req)) return payload;
    counted.add(req);
    if (req.principal) await perPrincipal?.(req);
    else await perIp?.(req);
    return payload;
  });
}

function refuseIfExceeded(reply: FastifyReply, verdict: Verdict, scope: string): void {
  if (!verdict.isAllowed && verdict.isExceeded) refuse(reply, verdict, scope);
}

function refuse(reply: FastifyReply, verdict: Exclude<Verdict, { isAllowed: true }>, scope: string): never {
  reply.header("retry-after", verdict.ttlInSeconds);
  throw new RateLimitedError(
    `rate limit of ${verdict.max} calls per minute ${scope} exceeded; retry after ${verdict.ttlInSeconds} s`,
  );
}

export class RateLimitedError extends DomainError {
  readonly status = 429;
  readonly code = "rate_limited";
  override readonly retryable = true;
}
