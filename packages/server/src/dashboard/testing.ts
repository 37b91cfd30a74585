import type { TestServer } from "../testing/harness.ts";
import { call, type HttpResult } from "../testing/http-client.ts";

/** A browser's view of a signed-in session, for HTTP tests: the cookie to send and the CSRF token. */
export interface TestSession {
  email: string;
  password: string;
  cookie: string;
  /** The device cookie (`cs_device=…`) the browser got when it signed in. */
  device: string;
  csrf: string;
  account: { id: string; key_id: string; role: string; email: string };
}

export function sessionCookieFrom(res: { headers: Headers }): string {
  return cookieFrom(res, "cs_session");
}

export function deviceCookieFrom(res: { headers: Headers }): string {
  return cookieFrom(res, "cs_device");
}

/** `name=value` of one Set-Cookie header of a response. */
function cookieFrom(res: { headers: Headers }, name: string): string {
  const all = res.headers.getSetCookie();
  const pair = all.map((c) => c.split(";")[0] ?? "").find((p) => p.startsWith(`${name}=`));
  if (!pair) throw new Error(`no ${name} cookie in ${JSON.stringify(all)}`);
  return pair;
}

export async function createInvite(
  s: TestServer,
  email: string,
  role: "admin" | "reviewer",
): Promise<{ token: string; path: string; url: string }> {
  const res = await call<{ token: string; path: string; url: string }>(s.url, "POST", "/v1/invites", {
    key: s.adminKey,
    body: { email, role },
  });
  if (res.status !== 201) throw new Error(`invite failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Invites an email, accepts the invite with a password, and returns the signed-in session. */
export async function createAccount(
  s: TestServer,
  email: string,
  role: "admin" | "reviewer",
  password = "correct horse battery staple",
  headers: Record<string, string> = {},
): Promise<TestSession> {
  const { token } = await createInvite(s, email, role);
  const res = await call<{ csrf_token: string; account: TestSession["account"] }>(
    s.url,
    "POST",
    "/v1/invites/accept",
    { body: { token, password }, headers },
  );
  if (res.status !== 201)
    throw new Error(`accepting the invite failed: ${res.status} ${JSON.stringify(res.body)}`);
  return {
    email,
    password,
    cookie: sessionCookieFrom(res),
    device: deviceCookieFrom(res),
    csrf: res.body.csrf_token,
    account: res.body.account,
  };
}

/** A call as the signed-in browser: the cookie always, the CSRF token unless told otherwise. */
export function asSession<T = Record<string, unknown>>(
  s: TestServer,
  session: Pick<TestSession, "cookie" | "csrf">,
  method: string,
  path: string,
  options: { body?: unknown; csrf?: string | null; headers?: Record<string, string> } = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = { cookie: session.cookie, ...options.headers };
  const csrf = options.csrf === undefined ? session.csrf : options.csrf;
  if (csrf !== null) headers["x-csrf-token"] = csrf;
  return call<T>(s.url, method, path, {
    headers,
    ...(options.body !== undefined ? { body: options.body } : {}),
  });
}
