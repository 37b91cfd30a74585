import { createHash } from "node:crypto";
import { DomainError } from "@countersign/core";
import rateLimit from "@fastify/rate-limit";
import type { App } from "./app-type.ts";

/**
 * Per-caller rate limit (`COUNTERSIGN_RATE_LIMIT_PER_MINUTE`): callers are told apart by their API
 * key or session cookie (hashed, so no secret is kept as a map key), or by address when they send
 * neither. Limits are per process; with N replicas a caller may make up to N times as many calls.
 * Health and readiness probes are never limited.
 */
export async function installRateLimit(app: App, perMinute: number): Promise<void> {
  await app.register(rateLimit, {
    global: true,
    max: perMinute,
    timeWindow: 60_000,
    cache: 50_000,
    allowList: (req) => req.url === "/healthz" || req.url === "/readyz",
    keyGenerator: (req) => {
      const credential = req.headers.authorization ?? req.headers.cookie;
      return credential ? `c:${createHash("sha256").update(credential).digest("base64url")}` : `ip:${req.ip}`;
    },
    // Thrown by the plugin and answered as problem+json by the app's error handler.
    errorResponseBuilder: (_req, context) =>
      new RateLimitedError(
        `rate limit of ${context.max} calls per minute exceeded; retry after ${context.after}`,
      ),
  });
}

export class RateLimitedError extends DomainError {
  readonly status = 429;
  readonly code = "rate_limited";
  override readonly retryable = true;
}
