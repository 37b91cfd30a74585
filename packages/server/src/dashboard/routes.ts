import { ForbiddenError, ValidationError } from "@countersign/core";
import type { FastifyReply, FastifyRequest } from "fastify";
import { Type } from "typebox";
import type { App } from "../http/app-type.ts";
import { principalOf } from "../http/auth.ts";
import { IdParams, responses } from "../http/schemas/common.ts";
import type { Services } from "../http/services.ts";
import { publicAccount } from "./accounts-service.ts";
import {
  clearedSessionCookie,
  clientIp,
  isCrossSite,
  isSecureRequest,
  publicOrigin,
  readCookie,
  sessionCookie,
} from "./cookies.ts";
import { RateLimitedError } from "./errors.ts";
import { eventRoutes } from "./event-routes.ts";
import {
  AcceptInviteBody,
  AccountResource,
  CreatedInvite,
  CreateInviteBody,
  InviteResource,
  ListSessionsQuery,
  PreviewInviteBody,
  SessionResource,
  SessionState,
  SignInBody,
  UpdateAccountBody,
} from "./schemas.ts";
import type { AuthenticatedSession, ClientMeta } from "./sessions-service.ts";
import { staticRoutes } from "./static.ts";
import { DEVICE_COOKIE, deviceCookie } from "./trusted-devices.ts";

function sessionState(req: FastifyRequest, session: AuthenticatedSession | null) {
  return {
    principal: session?.principal ?? principalOf(req),
    account: session ? publicAccount(session.account) : null,
    session: session
      ? { id: session.id, expires_at: session.expires_at, idle_expires_at: session.idle_expires_at }
      : null,
    csrf_token: session?.csrf_token ?? null,
  };
}

/**
 * Sign-in and invite acceptance need no credentials, so nothing stops a page on another site from
 * posting to them; they accept only JSON (which such a page cannot send without our consent) and
 * refuse requests the browser marks as cross-site.
 */
function refuseCrossSite(req: FastifyRequest): void {
  if (isCrossSite(req)) {
    throw new ForbiddenError("cross-site requests cannot sign in");
  }
}

async function withRetryAfter<T>(reply: FastifyReply, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof RateLimitedError) reply.header("retry-after", String(error.retryAfterSeconds));
    throw error;
  }
}

export function dashboardRoutes(app: App, services: Services, shutdown: AbortSignal): void {
  const d = services.dashboard;
  const trustProxy = d.options.trustProxy;
  const meta = (req: FastifyRequest): ClientMeta => ({
    ip: clientIp(req, trustProxy),
    userAgent: req.headers["user-agent"],
  });
  const startSession = (
    req: FastifyRequest,
    reply: FastifyReply,
    token: string,
    session: AuthenticatedSession,
  ) => {
    // The session was just opened: the cookie lives exactly as long as its absolute expiry.
    const maxAge = d.options.sessionAbsoluteMs / 1000;
    const secure = isSecureRequest(req, trustProxy);
    reply.header("set-cookie", sessionCookie(token, maxAge, secure));
    // This browser has now signed in to the account: its later sign-in attempts are counted on
    // their own, apart from strangers' (see trusted-devices.ts).
    reply.header("set-cookie", deviceCookie(d.sessions.deviceTokenFor(session.account), secure));
    reply.header("cache-control", "no-store");
    return reply.code(201).send(sessionState(req, session));
  };
  const current = (req: FastifyRequest) => req.authSession ?? null;

  app.decorateRequest("authSession", null);

  app.post(
    "/v1/sessions",
    {
      config: { public: true },
      schema: {
        tags: ["dashboard"],
        summary: "Sign in with email and password (sets the session cookie)",
        description:
          "Rate-limited per client address and per account (429 with Retry-After). The response carries the CSRF token to send as x-csrf-token on every state-changing call.",
        security: [],
        body: SignInBody,
        response: responses({ 201: SessionState }),
      },
    },
    async (req, reply) => {
      refuseCrossSite(req);
      const signInMeta = { ...meta(req), deviceToken: readCookie(req, DEVICE_COOKIE) };
      const { token, session } = await withRetryAfter(reply, () => d.sessions.signIn(req.body, signInMeta));
      return startSession(req, reply, token, session);
    },
  );

  app.get(
    "/v1/session",
    {
      config: { roles: ["admin", "reviewer", "agent"] },
      schema: {
        tags: ["dashboard"],
        summary:
          "Who is calling: the principal, and for a signed-in browser its account, session and CSRF token",
        response: responses({ 200: SessionState }),
      },
    },
    async (req, reply) => {
      reply.header("cache-control", "no-store");
      return sessionState(req, current(req));
    },
  );

  app.delete(
    "/v1/session",
    {
      config: { roles: ["admin", "reviewer"] },
      schema: { tags: ["dashboard"], summary: "Sign out: end this browser's session and clear its cookie" },
    },
    async (req, reply) => {
      const session = current(req);
      if (!session)
        throw new ValidationError(
          "this call is not made with a session cookie; there is nothing to sign out of",
        );
      await d.sessions.revoke(principalOf(req), session, session.id, "sign_out");
      reply.header("set-cookie", clearedSessionCookie(isSecureRequest(req, trustProxy)));
      return reply.code(204).send();
    },
  );

  app.get(
    "/v1/sessions",
    {
      config: { roles: ["admin", "reviewer"] },
      schema: {
        tags: ["dashboard"],
        summary: "Live sessions: an admin sees everyone's (or one account's), a reviewer their own",
        querystring: ListSessionsQuery,
        response: responses({ 200: Type.Object({ data: Type.Array(SessionResource) }) }),
      },
    },
    async (req) => ({ data: await d.sessions.list(principalOf(req), current(req), req.query.account_id) }),
  );

  app.delete(
    "/v1/sessions/:id",
    {
      config: { roles: ["admin", "reviewer"] },
      schema: {
        tags: ["dashboard"],
        summary: "Revoke a session (one's own, or anyone's for an admin)",
        params: IdParams,
      },
    },
    async (req, reply) => {
      const session = current(req);
      await d.sessions.revoke(principalOf(req), session, req.params.id, "revoked");
      if (session?.id === req.params.id) {
        reply.header("set-cookie", clearedSessionCookie(isSecureRequest(req, trustProxy)));
      }
      return reply.code(204).send();
    },
  );

  app.post(
    "/v1/invites",
    {
      config: { roles: ["admin"] },
      schema: {
        tags: ["dashboard"],
        summary: "Invite a person (or reset their password): a one-time link to set a password",
        body: CreateInviteBody,
        response: responses({ 201: CreatedInvite }),
      },
    },
    async (req, reply) => {
      const { invite, token } = await d.accounts.invite(principalOf(req), req.body);
      // The token travels in the fragment, which browsers never send to servers or in Referer headers.
      const path = `/invite#${token}`;
      reply.header("cache-control", "no-store");
      return reply.code(201).send({ invite, token, path, url: `${publicOrigin(req, trustProxy)}${path}` });
    },
  );

  app.get(
    "/v1/invites",
    {
      config: { roles: ["admin"] },
      schema: {
        tags: ["dashboard"],
        summary: "Invites not yet used, withdrawn or expired",
        response: responses({ 200: Type.Object({ data: Type.Array(InviteResource) }) }),
      },
    },
    async () => ({ data: await d.accounts.listInvites() }),
  );

  app.delete(
    "/v1/invites/:id",
    {
      config: { roles: ["admin"] },
      schema: { tags: ["dashboard"], summary: "Withdraw an invite", params: IdParams },
    },
    async (req, reply) => {
      await d.accounts.revokeInvite(principalOf(req), req.params.id);
      return reply.code(204).send();
    },
  );

  app.post(
    "/v1/invites/preview",
    {
      config: { public: true },
      schema: {
        tags: ["dashboard"],
        summary: "What an invite link is for (email, role), before the invitee chooses a password",
        security: [],
        body: PreviewInviteBody,
        response: responses({
          200: Type.Pick(InviteResource, ["email", "name", "role", "purpose", "expires_at"]),
        }),
      },
    },
    async (req, reply) => {
      refuseCrossSite(req);
      const invite = await withRetryAfter(reply, () => d.accounts.preview(req.body.token, meta(req).ip));
      return {
        email: invite.email,
        name: invite.name,
        role: invite.role,
        purpose: invite.purpose,
        expires_at: invite.expires_at,
      };
    },
  );

  app.post(
    "/v1/invites/accept",
    {
      config: { public: true },
      schema: {
        tags: ["dashboard"],
        summary: "Set a password from an invite link; signs the invitee in",
        description: "A password-reset invite also ends every other session of the account.",
        security: [],
        body: AcceptInviteBody,
        response: responses({ 201: SessionState }),
      },
    },
    async (req, reply) => {
      refuseCrossSite(req);
      const { token, session } = await withRetryAfter(reply, () => d.accounts.accept(req.body, meta(req)));
      return startSession(req, reply, token, session);
    },
  );

  app.get(
    "/v1/accounts",
    {
      config: { roles: ["admin"] },
      schema: {
        tags: ["dashboard"],
        summary: "Dashboard accounts",
        response: responses({ 200: Type.Object({ data: Type.Array(AccountResource) }) }),
      },
    },
    async () => ({ data: await d.accounts.list() }),
  );

  app.delete(
    "/v1/accounts/:id",
    {
      config: { roles: ["admin"] },
      schema: {
        tags: ["dashboard"],
        summary: "Disable an account: its key is revoked and its sessions end",
        params: IdParams,
        response: responses({ 200: AccountResource }),
      },
    },
    async (req) => d.accounts.disable(principalOf(req), req.params.id),
  );

  app.post(
    "/v1/accounts/:id/enable",
    {
      config: { roles: ["admin"] },
      schema: {
        tags: ["dashboard"],
        summary: "Enable a disabled account again: its own key becomes active; its person signs in again",
        params: IdParams,
        response: responses({ 200: AccountResource }),
      },
    },
    async (req) => d.accounts.enable(principalOf(req), req.params.id),
  );

  app.patch(
    "/v1/accounts/:id",
    {
      config: { roles: ["admin"] },
      schema: {
        tags: ["dashboard"],
        summary: "Give an account another role (admin or reviewer); the last active admin keeps theirs",
        params: IdParams,
        body: UpdateAccountBody,
        response: responses({ 200: AccountResource }),
      },
    },
    async (req) => d.accounts.setRole(principalOf(req), req.params.id, req.body.role),
  );

  eventRoutes(app, services, shutdown);
  staticRoutes(app, d.options.distDir);
}
