import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { STORAGE_KINDS, startTestServer, type TestServer } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";
import { asSession, createAccount } from "./testing.ts";

const MINUTE = 60_000;

describe.each(STORAGE_KINDS)("enabling accounts again and changing their roles (%s)", (storage) => {
  let s: TestServer;
  const clock = { t: Date.parse("2031-05-01T09:00:00Z"), now: () => clock.t };
  let n = 0;
  const email = () => `member${++n}@example.com`;
  const signIn = (who: { email: string; password: string }) =>
    call(s.url, "POST", "/v1/sessions", { body: { email: who.email, password: who.password } });
  const audit = async (subject: string) =>
    (
      await call<{ data: Array<{ kind: string; subject_id: string; data: Record<string, unknown> }> }>(
        s.url,
        "GET",
        "/v1/audit?limit=1000",
        { key: s.adminKey },
      )
    ).body.data.filter((e) => e.subject_id === subject);

  beforeAll(async () => {
    s = await startTestServer({ storage, clock });
  });
  afterAll(() => s.close());
  beforeEach(() => {
    clock.t += 31 * MINUTE;
  });

  it("enables a disabled account with its own key; its person signs in again", async () => {
    const gina = await createAccount(s, email(), "reviewer");
    expect((await call(s.url, "DELETE", `/v1/accounts/${gina.account.id}`, { key: s.adminKey })).status).toBe(
      200,
    );
    expect((await signIn(gina)).status).toBe(401);

    const enabled = await call<{ disabled_at: string | null; key_id: string }>(
      s.url,
      "POST",
      `/v1/accounts/${gina.account.id}/enable`,
      { key: s.adminKey },
    );
    expect(enabled.status).toBe(200);
    expect(enabled.body).toMatchObject({ disabled_at: null, key_id: gina.account.key_id });
    expect((await signIn(gina)).status).toBe(201);
    expect((await audit(gina.account.id)).map((e) => e.kind)).toContain("account.enabled");
    expect((await audit(gina.account.key_id)).map((e) => e.kind)).toEqual(
      expect.arrayContaining(["key.revoked", "key.restored"]),
    );
    const again = await call<{ code: string }>(s.url, "POST", `/v1/accounts/${gina.account.id}/enable`, {
      key: s.adminKey,
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("already_enabled");

    // An account whose key was revoked through the keys API is enabled the same way.
    const hank = await createAccount(s, email(), "reviewer");
    expect((await call(s.url, "DELETE", `/v1/keys/${hank.account.key_id}`, { key: s.adminKey })).status).toBe(
      200,
    );
    expect((await signIn(hank)).status).toBe(401);
    expect(
      (await call(s.url, "POST", `/v1/accounts/${hank.account.id}/enable`, { key: s.adminKey })).status,
    ).toBe(200);
    expect((await signIn(hank)).status).toBe(201);
  });

  it("changes a role at once, and never leaves the server without an active admin", async () => {
    const ivy = await createAccount(s, email(), "reviewer");
    expect((await asSession(s, ivy, "GET", "/v1/accounts")).status).toBe(403);
    const promoted = await call<{ role: string }>(s.url, "PATCH", `/v1/accounts/${ivy.account.id}`, {
      key: s.adminKey,
      body: { role: "admin" },
    });
    expect(promoted.status).toBe(200);
    expect(promoted.body.role).toBe("admin");
    // The same session now acts as an admin, and the account's key carries the role too.
    expect((await asSession(s, ivy, "GET", "/v1/accounts")).status).toBe(200);
    const keys = await call<{ data: Array<{ id: string; role: string }> }>(s.url, "GET", "/v1/keys", {
      key: s.adminKey,
    });
    expect(keys.body.data.find((k) => k.id === ivy.account.key_id)?.role).toBe("admin");
    const changed = (await audit(ivy.account.id)).find((e) => e.kind === "account.role_changed");
    expect(changed?.data).toMatchObject({ from: "reviewer", to: "admin" });

    // Ivy demotes herself through the dashboard (CSRF token and all): allowed while another admin remains.
    const demoted = await asSession<{ role: string }>(s, ivy, "PATCH", `/v1/accounts/${ivy.account.id}`, {
      body: { role: "reviewer" },
    });
    expect(demoted.status).toBe(200);
    expect((await asSession(s, ivy, "GET", "/v1/accounts")).status).toBe(403);

    // A server whose only active admin is one account: that account keeps its role.
    const lone = await startTestServer({ storage, clock });
    try {
      const only = await createAccount(lone, "only@example.com", "admin");
      const listed = await call<{ data: Array<{ id: string; name: string }> }>(lone.url, "GET", "/v1/keys", {
        key: lone.adminKey,
      });
      const bootstrap = listed.body.data.find((k) => k.name === "bootstrap admin");
      expect(
        (await call(lone.url, "DELETE", `/v1/keys/${bootstrap?.id}`, { key: lone.adminKey })).status,
      ).toBe(200);
      const refused = await asSession<{ code: string }>(
        lone,
        only,
        "PATCH",
        `/v1/accounts/${only.account.id}`,
        {
          body: { role: "reviewer" },
        },
      );
      expect(refused.status).toBe(409);
      expect(refused.body.code).toBe("last_admin");
    } finally {
      await lone.close();
    }
  });

  it("refuses other callers, unknown accounts and unknown roles", async () => {
    const jack = await createAccount(s, email(), "reviewer");
    const reviewerKey = await s.createKey("reviewer");
    const asReviewer = await call(s.url, "PATCH", `/v1/accounts/${jack.account.id}`, {
      key: reviewerKey,
      body: { role: "admin" },
    });
    expect(asReviewer.status).toBe(403);
    expect(
      (await call(s.url, "POST", `/v1/accounts/${jack.account.id}/enable`, { key: reviewerKey })).status,
    ).toBe(403);
    expect(
      (await call(s.url, "PATCH", "/v1/accounts/usr_nobody", { key: s.adminKey, body: { role: "admin" } }))
        .status,
    ).toBe(404);
    const badRole = await call<{ errors: Array<{ path: string }> }>(
      s.url,
      "PATCH",
      `/v1/accounts/${jack.account.id}`,
      {
        key: s.adminKey,
        body: { role: "agent" },
      },
    );
    expect(badRole.status).toBe(400);
    expect(badRole.body.errors[0]?.path).toBe("/role");
  });
});
