import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { STORAGE_KINDS, startTestServer, type TestServer } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";
import { asSession, createAccount, createInvite, deviceCookieFrom } from "./testing.ts";

const MINUTE = 60_000;

describe.each(STORAGE_KINDS)("dashboard sign-in and sessions (%s)", (storage) => {
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

  it("signs in with the right password only, with the same answer for unknown emails", async () => {
    const me = await createAccount(s, email(), "reviewer");
    const wrong = await call<{ detail: string }>(s.url, "POST", "/v1/sessions", {
      body: { email: me.email, password: "not the password" },
    });
    const nobody = await call<{ detail: string }>(s.url, "POST", "/v1/sessions", {
      body: { email: "nobody@example.com", password: "not the password" },
    });
    expect(wrong.status).toBe(401);
    expect(nobody.status).toBe(401);
    expect(wrong.body.detail).toBe(nobody.body.detail);

    const ok = await call<{ csrf_token: string }>(s.url, "POST", "/v1/sessions", {
      body: { email: me.email.toUpperCase(), password: me.password },
    });
    expect(ok.status).toBe(201);
    expect(ok.body.csrf_token).not.toBe(me.csrf); // a new session has its own token
  });

  it("cannot be signed into from another site: a form post is refused, as is a cross-site fetch", async () => {
    const me = await createAccount(s, email(), "reviewer");
    // What a plain HTML form on another site can send: no JSON content type.
    for (const type of [
      "application/x-www-form-urlencoded",
      "text/plain",
      "multipart/form-data; boundary=x",
    ]) {
      const res = await call(s.url, "POST", "/v1/sessions", {
        rawBody: JSON.stringify({ email: me.email, password: me.password }),
        headers: { "content-type": type },
      });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.headers.get("set-cookie")).toBeNull();
    }
    const crossSite = await call(s.url, "POST", "/v1/sessions", {
      body: { email: me.email, password: me.password },
      headers: { "sec-fetch-site": "cross-site" },
    });
    expect(crossSite.status).toBe(403);
    expect(crossSite.headers.get("set-cookie")).toBeNull();
  });

  it("rate-limits sign-in attempts per account, even with the right password, until the window passes", async () => {
    const me = await createAccount(s, email(), "reviewer");
    for (let i = 0; i < 10; i++) {
      const res = await call(s.url, "POST", "/v1/sessions", {
        body: { email: me.email, password: `guess ${i}` },
      });
      expect(res.status).toBe(401);
    }
    const limited = await call(s.url, "POST", "/v1/sessions", {
      body: { email: me.email, password: me.password },
    });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    clock.t += 16 * MINUTE;
    const ok = await call(s.url, "POST", "/v1/sessions", {
      body: { email: me.email, password: me.password },
    });
    expect(ok.status).toBe(201);
  });

  it("keeps a browser that signed in before able to sign in while strangers exhaust the account's limit", async () => {
    const me = await createAccount(s, email(), "reviewer");
    const other = await createAccount(s, email(), "reviewer");
    const signIn = (password: string, cookie?: string) =>
      call(s.url, "POST", "/v1/sessions", {
        body: { email: me.email, password },
        ...(cookie ? { headers: { cookie } } : {}),
      });
    // The device cookie reaches only the sign-in call, never scripts or other sites.
    const accepted = await call(s.url, "POST", "/v1/sessions", {
      body: { email: me.email, password: me.password },
    });
    const attributes = accepted.headers.getSetCookie().find((c) => c.startsWith("cs_device="));
    expect(attributes).toMatch(/; Path=\/v1\/sessions; HttpOnly; SameSite=Strict/);

    for (let i = 0; i < 10; i++) expect((await signIn(`stranger's guess ${i}`)).status).toBe(401);
    expect((await signIn(me.password)).status).toBe(429);
    // Another account's device cookie, or a tampered one, earns nothing.
    expect((await signIn(me.password, other.device)).status).toBe(429);
    expect((await signIn(me.password, `${me.device.slice(0, -2)}xx`)).status).toBe(429);
    // The owner's browser still signs in, and gets a fresh device cookie.
    const owner = await signIn(me.password, me.device);
    expect(owner.status).toBe(201);
    const fresh = deviceCookieFrom(owner);

    // That browser's own failures are limited on their own, per device cookie.
    for (let i = 0; i < 10; i++) expect((await signIn(`typo ${i}`, fresh)).status).toBe(401);
    expect((await signIn(me.password, fresh)).status).toBe(429);
    clock.t += 16 * MINUTE;
    expect((await signIn(me.password, fresh)).status).toBe(201);

    const audit = await call<{
      data: Array<{ kind: string; subject_id: string; data: Record<string, unknown> }>;
    }>(s.url, "GET", "/v1/audit?limit=1000", { key: s.adminKey });
    const failures = audit.body.data.filter(
      (e) => e.kind === "session.sign_in_failed" && e.subject_id === me.account.id,
    );
    expect(failures.filter((e) => e.data.trusted_device === false)).toHaveLength(10);
    expect(failures.filter((e) => e.data.trusted_device === true)).toHaveLength(10);
  });

  it("rate-limits sign-in attempts per client address", async () => {
    let status = 0;
    let attempts = 0;
    while (status !== 429 && attempts < 40) {
      attempts++;
      status = (
        await call(s.url, "POST", "/v1/sessions", {
          body: { email: `stranger${attempts}@example.com`, password: "whatever it is" },
        })
      ).status;
    }
    expect(status).toBe(429);
    expect(attempts).toBe(31);
  });

  it("refuses a state-changing call from the browser without the CSRF token; bearer keys need none", async () => {
    const reviewer = await createAccount(s, email(), "reviewer");
    const agent = await s.createKey("agent");
    const create = () =>
      call<{ id: string }>(s.url, "POST", "/v1/requests", { key: agent, body: { question: "Deploy?" } });
    const r1 = (await create()).body.id;

    const missing = await asSession<{ code: string }>(s, reviewer, "POST", `/v1/requests/${r1}/respond`, {
      body: { approved: true },
      csrf: null,
    });
    expect(missing.status).toBe(403);
    expect(missing.body.code).toBe("csrf_token_invalid");
    const wrong = await asSession(s, reviewer, "POST", `/v1/requests/${r1}/respond`, {
      body: { approved: true },
      csrf: "A".repeat(43),
    });
    expect(wrong.status).toBe(403);
    const crossSite = await asSession(s, reviewer, "POST", `/v1/requests/${r1}/respond`, {
      body: { approved: true },
      headers: { "sec-fetch-site": "cross-site" },
    });
    expect(crossSite.status).toBe(403);
    // Nothing was decided by the refused calls.
    const still = await call<{ status: string }>(s.url, "GET", `/v1/requests/${r1}`, { key: s.adminKey });
    expect(still.body.status).toBe("pending");

    // Reads need no token.
    expect((await asSession(s, reviewer, "GET", `/v1/requests/${r1}`, { csrf: null })).status).toBe(200);

    const ok = await asSession<{ status: string; response: { reviews: Array<{ reviewer: unknown }> } }>(
      s,
      reviewer,
      "POST",
      `/v1/requests/${r1}/respond`,
      { body: { approved: true, comment: "fine" } },
    );
    expect(ok.status).toBe(200);
    expect(ok.body.status).toBe("approved");
    expect(ok.body.response.reviews[0]?.reviewer).toEqual({
      key_id: reviewer.account.key_id,
      name: reviewer.email,
      role: "reviewer",
    });

    const reviewerKey = await s.createKey("reviewer");
    const r2 = (await create()).body.id;
    const byKey = await call(s.url, "POST", `/v1/requests/${r2}/respond`, {
      key: reviewerKey,
      body: { approved: false },
    });
    expect(byKey.status).toBe(200);

    const audit = await call<{
      data: Array<{ kind: string; subject_id: string; actor: { key_id?: string } }>;
    }>(s.url, "GET", "/v1/audit?limit=1000", { key: s.adminKey });
    const decided = audit.body.data.find((e) => e.kind === "request.approved" && e.subject_id === r1);
    expect(decided?.actor.key_id).toBe(reviewer.account.key_id);
  });

  it("marks the cookie Secure over TLS seen through a trusted proxy, and not when the proxy is not trusted", async () => {
    const previous = process.env.COUNTERSIGN_TRUST_PROXY;
    process.env.COUNTERSIGN_TRUST_PROXY = "1";
    const behindProxy = await startTestServer({ storage });
    if (previous === undefined) delete process.env.COUNTERSIGN_TRUST_PROXY;
    else process.env.COUNTERSIGN_TRUST_PROXY = previous;
    try {
      const headers = { "x-forwarded-proto": "https", "x-forwarded-for": "203.0.113.9" };
      const secure = await createAccount(behindProxy, email(), "reviewer", undefined, headers);
      expect(secure.cookie).toMatch(/^cs_session=/);
      const signIn = await call(behindProxy.url, "POST", "/v1/sessions", {
        body: { email: secure.email, password: secure.password },
        headers,
      });
      expect(signIn.headers.get("set-cookie")).toContain("Secure");
      const invite = await call<{ url: string }>(behindProxy.url, "POST", "/v1/invites", {
        key: behindProxy.adminKey,
        body: { email: email(), role: "admin" },
        headers: { ...headers, "x-forwarded-host": "approvals.example.com" },
      });
      expect(invite.body.url).toMatch(/^https:\/\/approvals\.example\.com\/invite#/);
    } finally {
      await behindProxy.close();
    }
    const notTrusted = await call(s.url, "POST", "/v1/invites/accept", {
      body: {
        token: (await createInvite(s, email(), "reviewer")).token,
        password: "a long enough passphrase",
      },
      headers: { "x-forwarded-proto": "https" },
    });
    expect(notTrusted.headers.get("set-cookie")).not.toContain("Secure");
  });

  it("signs out, and revokes sessions: one's own, or anyone's for an admin", async () => {
    const alice = await createAccount(s, email(), "reviewer");
    const bob = await createAccount(s, email(), "reviewer");
    const admin = await createAccount(s, email(), "admin");

    const mine = await asSession<{ data: Array<{ id: string; current: boolean; email: string }> }>(
      s,
      alice,
      "GET",
      "/v1/sessions",
    );
    expect(mine.body.data).toHaveLength(1);
    expect(mine.body.data[0]?.current).toBe(true);
    const bobs = await asSession<{ data: Array<{ id: string }> }>(s, bob, "GET", "/v1/sessions");
    const bobSession = bobs.body.data[0]?.id ?? "";

    // A reviewer cannot end someone else's session; it looks like it does not exist.
    expect((await asSession(s, alice, "DELETE", `/v1/sessions/${bobSession}`)).status).toBe(404);
    const all = await asSession<{ data: Array<{ email: string }> }>(s, admin, "GET", "/v1/sessions");
    expect(all.body.data.map((x) => x.email)).toEqual(expect.arrayContaining([alice.email, bob.email]));
    expect((await asSession(s, admin, "DELETE", `/v1/sessions/${bobSession}`)).status).toBe(204);
    expect((await asSession(s, bob, "GET", "/v1/session")).status).toBe(401);

    // Sign-out needs the CSRF token too, then clears the cookie and ends the session.
    expect((await asSession(s, alice, "DELETE", "/v1/session", { csrf: null })).status).toBe(403);
    const out = await asSession(s, alice, "DELETE", "/v1/session");
    expect(out.status).toBe(204);
    expect(out.headers.get("set-cookie")).toMatch(/^cs_session=;.*Max-Age=0/);
    expect((await asSession(s, alice, "GET", "/v1/session")).status).toBe(401);

    const audit = await call<{ data: Array<{ kind: string; data: { reason?: string } }> }>(
      s.url,
      "GET",
      "/v1/audit?limit=1000",
      { key: s.adminKey },
    );
    const kinds = audit.body.data.map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(["invite.created", "account.created", "session.created"]));
    const reasons = audit.body.data.filter((e) => e.kind === "session.revoked").map((e) => e.data.reason);
    expect(reasons).toEqual(expect.arrayContaining(["revoked", "sign_out"]));
  });

  it("ends sessions after the idle timeout and after the absolute lifetime", async () => {
    const idle = await createAccount(s, email(), "reviewer");
    clock.t += 7 * 3600_000;
    expect((await asSession(s, idle, "GET", "/v1/session")).status).toBe(200);
    clock.t += 8 * 3600_000 + 1;
    expect((await asSession(s, idle, "GET", "/v1/session")).status).toBe(401);

    const busy = await createAccount(s, email(), "reviewer");
    for (let hour = 0; hour < 23; hour++) {
      clock.t += 3600_000;
      expect((await asSession(s, busy, "GET", "/v1/session")).status).toBe(200);
    }
    clock.t += 3600_000;
    expect((await asSession(s, busy, "GET", "/v1/session")).status).toBe(401);
  });
});
