import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { STORAGE_KINDS, startTestServer, type TestServer } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";
import { asSession, createAccount, createInvite, sessionCookieFrom } from "./testing.ts";

const MINUTE = 60_000;

describe.each(STORAGE_KINDS)("dashboard accounts and invites (%s)", (storage) => {
  let s: TestServer;
  const clock = { t: Date.parse("2031-03-01T09:00:00Z"), now: () => clock.t };
  let n = 0;
  const email = () => `person${++n}@example.com`;

  beforeAll(async () => {
    s = await startTestServer({ storage, clock });
  });
  afterAll(() => s.close());
  // Each test starts in a fresh rate-limit window.
  beforeEach(() => {
    clock.t += 31 * MINUTE;
  });

  it("only admins invite; the invitee sets a password and is signed in with a strict httpOnly cookie", async () => {
    const reviewerKey = await s.createKey("reviewer");
    const refused = await call(s.url, "POST", "/v1/invites", {
      key: reviewerKey,
      body: { email: "x@example.com", role: "reviewer" },
    });
    expect(refused.status).toBe(403);
    expect(
      (await call(s.url, "POST", "/v1/invites", { body: { email: "x@example.com", role: "reviewer" } }))
        .status,
    ).toBe(401);

    const address = email();
    const invite = await createInvite(s, address, "reviewer");
    expect(invite.path).toBe(`/invite#${invite.token}`);
    expect(invite.url).toBe(`${s.url}${invite.path}`);

    const preview = await call(s.url, "POST", "/v1/invites/preview", { body: { token: invite.token } });
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({ email: address, role: "reviewer", purpose: "new_account" });

    const accepted = await call<{ csrf_token: string; account: { key_id: string; role: string } }>(
      s.url,
      "POST",
      "/v1/invites/accept",
      { body: { token: invite.token, password: "a long enough passphrase" } },
    );
    expect(accepted.status).toBe(201);
    const cookie = accepted.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^cs_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    expect(cookie).toContain("Path=/");
    expect(cookie).not.toContain("Secure"); // plain HTTP, no trusted proxy
    expect(accepted.headers.get("cache-control")).toBe("no-store");
    expect(accepted.body.account.role).toBe("reviewer");

    const me = await call<{ principal: { key_id: string; name: string; role: string }; csrf_token: string }>(
      s.url,
      "GET",
      "/v1/session",
      { headers: { cookie: sessionCookieFrom(accepted) } },
    );
    expect(me.status).toBe(200);
    expect(me.body.principal).toEqual({
      key_id: accepted.body.account.key_id,
      name: address,
      role: "reviewer",
    });
    expect(me.body.csrf_token).toBe(accepted.body.csrf_token);

    // One use only.
    const again = await call(s.url, "POST", "/v1/invites/accept", {
      body: { token: invite.token, password: "a long enough passphrase" },
    });
    expect(again.status).toBe(410);
  });

  it("refuses unknown, expired and withdrawn invite links, and weak passwords", async () => {
    const unknown = await call(s.url, "POST", "/v1/invites/accept", {
      body: { token: "A".repeat(43), password: "a long enough passphrase" },
    });
    expect(unknown.status).toBe(410);

    const weak = await createInvite(s, email(), "reviewer");
    const short = await call<{ errors: Array<{ path: string }> }>(s.url, "POST", "/v1/invites/accept", {
      body: { token: weak.token, password: "short" },
    });
    expect(short.status).toBe(400);
    expect(short.body.errors[0]?.path).toBe("/password");

    const expiring = await call<{ token: string }>(s.url, "POST", "/v1/invites", {
      key: s.adminKey,
      body: { email: email(), role: "reviewer", ttl_seconds: 3600 },
    });
    clock.t += 2 * 3600_000;
    const expired = await call<{ detail: string }>(s.url, "POST", "/v1/invites/accept", {
      body: { token: expiring.body.token, password: "a long enough passphrase" },
    });
    expect(expired.status).toBe(410);
    expect(expired.body.detail).toContain("expired");

    const withdrawn = await call<{ token: string; invite: { id: string } }>(s.url, "POST", "/v1/invites", {
      key: s.adminKey,
      body: { email: email(), role: "reviewer" },
    });
    const listed = await call<{ data: Array<{ id: string }> }>(s.url, "GET", "/v1/invites", {
      key: s.adminKey,
    });
    expect(listed.body.data.map((i) => i.id)).toContain(withdrawn.body.invite.id);
    expect(
      (await call(s.url, "DELETE", `/v1/invites/${withdrawn.body.invite.id}`, { key: s.adminKey })).status,
    ).toBe(204);
    const used = await call(s.url, "POST", "/v1/invites/accept", {
      body: { token: withdrawn.body.token, password: "a long enough passphrase" },
    });
    expect(used.status).toBe(410);
  });

  it("disabling an account or revoking its key ends its sessions and its sign-ins", async () => {
    const carol = await createAccount(s, email(), "reviewer");
    const disabled = await call<{ disabled_at: string | null }>(
      s.url,
      "DELETE",
      `/v1/accounts/${carol.account.id}`,
      {
        key: s.adminKey,
      },
    );
    expect(disabled.status).toBe(200);
    expect(disabled.body.disabled_at).not.toBeNull();
    expect((await asSession(s, carol, "GET", "/v1/session")).status).toBe(401);
    expect(
      (await call(s.url, "POST", "/v1/sessions", { body: { email: carol.email, password: carol.password } }))
        .status,
    ).toBe(401);

    const dave = await createAccount(s, email(), "reviewer");
    expect((await call(s.url, "DELETE", `/v1/keys/${dave.account.key_id}`, { key: s.adminKey })).status).toBe(
      200,
    );
    expect((await asSession(s, dave, "GET", "/v1/session")).status).toBe(401);
    expect(
      (await call(s.url, "POST", "/v1/sessions", { body: { email: dave.email, password: dave.password } }))
        .status,
    ).toBe(401);
  });

  it("a password-reset invite sets a new password and ends the account's other sessions", async () => {
    const erin = await createAccount(s, email(), "reviewer");
    const conflicting = await call<{ code: string }>(s.url, "POST", "/v1/invites", {
      key: s.adminKey,
      body: { email: erin.email, role: "admin" },
    });
    expect(conflicting.status).toBe(409);

    const reset = await createInvite(s, erin.email, "reviewer");
    const preview = await call(s.url, "POST", "/v1/invites/preview", { body: { token: reset.token } });
    expect(preview.body).toMatchObject({ purpose: "password_reset" });
    const accepted = await call(s.url, "POST", "/v1/invites/accept", {
      body: { token: reset.token, password: "a brand new passphrase" },
    });
    expect(accepted.status).toBe(201);
    expect((await asSession(s, erin, "GET", "/v1/session")).status).toBe(401);
    const old = await call(s.url, "POST", "/v1/sessions", {
      body: { email: erin.email, password: erin.password },
    });
    expect(old.status).toBe(401);
    const fresh = await call(s.url, "POST", "/v1/sessions", {
      body: { email: erin.email, password: "a brand new passphrase" },
    });
    expect(fresh.status).toBe(201);
  });

  it("lists accounts for admins only, with the key each acts as", async () => {
    const frank = await createAccount(s, email(), "reviewer");
    const listed = await call<{ data: Array<{ email: string; key_id: string }> }>(
      s.url,
      "GET",
      "/v1/accounts",
      {
        key: s.adminKey,
      },
    );
    expect(listed.body.data.find((a) => a.email === frank.email)?.key_id).toBe(frank.account.key_id);
    expect(JSON.stringify(listed.body)).not.toMatch(/password_hash|scrypt/);
    expect((await asSession(s, frank, "GET", "/v1/accounts")).status).toBe(403);
  });
});
