import { ForbiddenError, type Principal, type Role, UnauthorizedError } from "@countersign/core";
import type { FastifyRequest } from "fastify";
import type { AuthenticatedSession } from "../dashboard/sessions-service.ts";
import type { KeysService } from "../services/keys-service.ts";

declare module "fastify" {
  interface FastifyRequest {
    principal: Principal | null;
    /** Set when the caller is a signed-in browser (session cookie) rather than a bearer key. */
    authSession: AuthenticatedSession | null;
  }
  interface FastifyContextConfig {
    /** Answered without credentials (sign-in, invite acceptance); such routes declare no roles. */
    public?: boolean;
  }
}

/** Resolves a session cookie (the dashboard's sessions); undefined when the request carries none. */
export interface SessionAuthenticator {
  authenticate(request: FastifyRequest): Promise<AuthenticatedSession | undefined>;
}

/**
 * Resolves the caller to a principal, or refuses with 401: a bearer key (machines) when an
 * Authorization header is sent, otherwise a session cookie (people in the dashboard), whose
 * state-changing calls must also carry the session's CSRF token (403 without).
 */
export async function authenticate(
  request: FastifyRequest,
  keys: KeysService,
  sessions?: SessionAuthenticator,
): Promise<Principal> {
  const header = request.headers.authorization;
  if (!header) {
    const session = await sessions?.authenticate(request);
    if (session) {
      request.authSession = session;
      return session.principal;
    }
    throw new UnauthorizedError("send an API key as 'Authorization: Bearer <key>', or sign in");
  }
  const secret = bearerSecret(header);
  if (!secret) throw new UnauthorizedError("the Authorization header must be 'Bearer <key>'");
  const principal = await keys.authenticate(secret);
  if (!principal) throw new UnauthorizedError("unknown or revoked API key");
  return principal;
}

/**
 * The caller's principal at once, without a promise, when its bearer key was authenticated a
 * moment ago (see PrincipalCache); undefined when `authenticate` must decide. Every API call
 * passes here first, so the common case skips the asynchronous path entirely.
 */
export function cachedPrincipal(request: FastifyRequest, keys: KeysService): Principal | undefined {
  const header = request.headers.authorization;
  const secret = header ? bearerSecret(header) : undefined;
  return secret ? keys.cachedPrincipal(secret) : undefined;
}

function bearerSecret(header: string): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
}

export function requireRole(principal: Principal | null, ...roles: Role[]): Principal {
  if (!principal) throw new UnauthorizedError("authentication required");
  if (!roles.includes(principal.role)) {
    throw new ForbiddenError(
      `this endpoint needs a key with role ${roles.join(" or ")}; yours is ${principal.role}`,
    );
  }
  return principal;
}

/** The authenticated caller of a `/v1` route (the onRequest hook guarantees one is set). */
export function principalOf(req: { principal: Principal | null }): Principal {
  if (!req.principal) throw new UnauthorizedError("authentication required");
  return req.principal;
}
