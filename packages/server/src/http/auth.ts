import { ForbiddenError, type Principal, type Role, UnauthorizedError } from "@countersign/core";
import type { FastifyRequest } from "fastify";
import type { KeysService } from "../services/keys-service.ts";

declare module "fastify" {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/** Reads `Authorization: Bearer <key>` and resolves it to a principal, or refuses with 401. */
export async function authenticate(request: FastifyRequest, keys: KeysService): Promise<Principal> {
  const header = request.headers.authorization;
  if (!header) throw new UnauthorizedError("send an API key as 'Authorization: Bearer <key>'");
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) throw new UnauthorizedError("the Authorization header must be 'Bearer <key>'");
  const principal = await keys.authenticate(match[1]);
  if (!principal) throw new UnauthorizedError("unknown or revoked API key");
  return principal;
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
