import type { SigningKeysService } from "../../services/signing-keys-service.ts";
import type { TokensService } from "../../services/tokens-service.ts";
import type { App } from "../app-type.ts";
import { principalOf } from "../auth.ts";
import { responses } from "../schemas/common.ts";
import {
  ConsumeTokenResult,
  JwksResource,
  RotatedKeys,
  TokenCallBody,
  VerifyTokenResult,
} from "../schemas/tokens.ts";

/** Long enough to spare the server, short next to the time a retired key stays published. */
const JWKS_CACHE_CONTROL = "public, max-age=300";

export function tokenRoutes(
  app: App,
  services: { signingKeys: SigningKeysService; tokens: TokensService },
): void {
  app.get(
    "/.well-known/jwks.json",
    {
      schema: {
        tags: ["tokens"],
        summary: "Public keys that verify approval tokens offline (retired keys included)",
        security: [],
        response: { 200: JwksResource },
      },
    },
    async (_req, reply) => {
      reply.header("cache-control", JWKS_CACHE_CONTROL);
      return services.signingKeys.jwks();
    },
  );

  app.post(
    "/v1/tokens/verify",
    {
      config: { roles: ["agent", "admin"] },
      schema: {
        tags: ["tokens"],
        summary: "Check that an approval token authorises this tool call, and whether it was used",
        body: TokenCallBody,
        response: responses({ 200: VerifyTokenResult }),
      },
    },
    async (req) => {
      const { claims, consumed } = await services.tokens.verify(req.body);
      return { valid: true, claims, consumed };
    },
  );

  app.post(
    "/v1/tokens/consume",
    {
      config: { roles: ["agent", "admin"] },
      schema: {
        tags: ["tokens"],
        summary: "Use an approval token for this tool call, once (409 afterwards)",
        body: TokenCallBody,
        response: responses({ 200: ConsumeTokenResult }),
      },
    },
    async (req) => {
      const used = await services.tokens.consume(req.body, principalOf(req));
      return { consumed: true, claims: used.claims, executed_args_hash: used.executed_args_hash };
    },
  );

  app.post(
    "/v1/signing-keys/rotate",
    {
      config: { roles: ["admin"] },
      schema: {
        tags: ["tokens"],
        summary: "Start signing with a new key; the old one stays published until its tokens expire",
        response: responses({ 200: RotatedKeys }),
      },
    },
    async (req) => {
      const rotation = await services.signingKeys.rotate(principalOf(req));
      return { active_kid: rotation.kid, retired: rotation.retired, ...services.signingKeys.jwks() };
    },
  );
}
