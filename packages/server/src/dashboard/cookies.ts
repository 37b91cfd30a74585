import type { TLSSocket } from "node:tls";
import type { FastifyRequest } from "fastify";

export const SESSION_COOKIE = "cs_session";
export const CSRF_HEADER = "x-csrf-token";

/**
 * Reads one cookie from the request. Parsed here rather than by a plugin: authentication runs in
 * the first onRequest hook, before any plugin's hooks, and our cookie values are plain base64url.
 */
export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Did the browser mark the request as coming from another site? Such requests may read nothing
 * and change nothing with our cookie (SameSite=Strict already withholds it; this also covers
 * sign-in, which needs no cookie). Clients other than browsers do not send the header.
 */
export function isCrossSite(request: FastifyRequest): boolean {
  return request.headers["sec-fetch-site"] === "cross-site";
}

/** Did the request reach us over TLS (directly, or through a proxy we are told to trust)? */
export function isSecureRequest(request: FastifyRequest, trustProxy: boolean): boolean {
  if ((request.raw.socket as TLSSocket).encrypted) return true;
  if (!trustProxy) return false;
  const proto = request.headers["x-forwarded-proto"];
  const first = (Array.isArray(proto) ? proto[0] : proto)?.split(",")[0]?.trim().toLowerCase();
  return first === "https";
}

/** The client's address: the socket's, or the one the trusted proxy appended last. */
export function clientIp(request: FastifyRequest, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = request.headers["x-forwarded-for"];
    const list = (Array.isArray(forwarded) ? forwarded.join(",") : (forwarded ?? "")).split(",");
    const last = list[list.length - 1]?.trim();
    if (last) return last;
  }
  return request.ip;
}

/** The origin a browser uses to reach us, for links we hand out (invite links). */
export function publicOrigin(request: FastifyRequest, trustProxy: boolean): string {
  const forwardedHost = trustProxy ? request.headers["x-forwarded-host"] : undefined;
  const host = (Array.isArray(forwardedHost) ? forwardedHost[0] : forwardedHost) ?? request.headers.host;
  return `${isSecureRequest(request, trustProxy) ? "https" : "http"}://${host ?? "localhost"}`;
}

/** The session cookie: never readable by scripts, never sent on cross-site requests. */
export function sessionCookie(token: string, maxAgeSeconds: number, secure: boolean): string {
  const attributes = [
    `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Strict",
  ];
  if (secure) attributes.push("Secure");
  return [`${SESSION_COOKIE}=${token}`, ...attributes].join("; ");
}

export function clearedSessionCookie(secure: boolean): string {
  return sessionCookie("", 0, secure).replace("; Path", "; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path");
}
