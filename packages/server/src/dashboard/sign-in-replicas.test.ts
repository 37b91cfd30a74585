import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { startServer } from "../server.ts";
import { createTestStore, STORAGE_KINDS, type TestServer, testServerConfig } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";
import { createAccount } from "./testing.ts";

describe.each(STORAGE_KINDS)("sign-in limits shared by every server on one database (%s)", (kind) => {
  it("counts an account's failed attempts on one server against its allowance on the other", async () => {
    const t = await createTestStore(kind);
    const second = await t.reopen();
    const adminKey = `cs_admin_${randomBytes(32).toString("base64url")}`;
    const config = testServerConfig({ bootstrapAdminKey: adminKey });
    const a = await startServer(config, { store: t.store, logger: false });
    const b = await startServer(config, { store: second, logger: false });
    try {
      const person = await createAccount(
        { url: a.url, adminKey } as TestServer,
        "kim@example.com",
        "reviewer",
      );
      const attempt = (url: string, password: string) =>
        call(url, "POST", "/v1/sessions", { body: { email: person.email, password } });
      for (let i = 0; i < 5; i++) {
        expect((await attempt(a.url, `guess on a ${i}`)).status).toBe(401);
        expect((await attempt(b.url, `guess on b ${i}`)).status).toBe(401);
      }
      // Ten failures in all: neither server lets the eleventh attempt in, not even the right password.
      expect((await attempt(a.url, person.password)).status).toBe(429);
      expect((await attempt(b.url, person.password)).status).toBe(429);
    } finally {
      await a.close();
      await b.close();
      await t.cleanup();
    }
  });

  it("lets a burst of parallel attempts past the allowance count, instead of all passing the check", async () => {
    const t = await createTestStore(kind);
    const adminKey = `cs_admin_${randomBytes(32).toString("base64url")}`;
    const server = await startServer(testServerConfig({ bootstrapAdminKey: adminKey }), {
      store: t.store,
      logger: false,
    });
    try {
      const person = await createAccount(
        { url: server.url, adminKey } as TestServer,
        "lee@example.com",
        "reviewer",
      );
      const statuses = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          call(server.url, "POST", "/v1/sessions", {
            body: { email: person.email, password: `burst ${i}` },
          }).then((r) => r.status),
        ),
      );
      expect(statuses.filter((s) => s === 401)).toHaveLength(10);
      expect(statuses.filter((s) => s === 429)).toHaveLength(6);
    } finally {
      await server.close();
      await t.cleanup();
    }
  });
});
