import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Clock,
  generateSigningKey,
  IdGenerator,
  isoAt,
  ManualClock,
  type Principal,
  type RandomSource,
  SigningKeyError,
  verifyChain,
} from "@countersign/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { listAudit } from "../repos/audit-repo.ts";
import { startServer } from "../server.ts";
import type { Store } from "../storage/store.ts";
import { createTestStore, STORAGE_KINDS, type TestStore, testServerConfig } from "../testing/harness.ts";
import type { ServiceDeps } from "./deps.ts";
import { openSecretBox, SharedSecretBox } from "./secret-box.ts";
import { SigningKeysService } from "./signing-keys-service.ts";

const admin: Principal = { key_id: "key_admin", name: "admin", role: "admin" };
const random: RandomSource = { bytes: (n) => new Uint8Array(randomBytes(n)) };

function depsOf(store: Store, clock: Clock): ServiceDeps {
  return { store, clock, random, ids: new IdGenerator(clock, random) };
}

function signingKeys(store: Store, clock: Clock, secretBox?: SharedSecretBox): SigningKeysService {
  const deps = depsOf(store, clock);
  return new SigningKeysService(deps, secretBox ? { secretBox } : {});
}

async function storedRecord(store: Store, kid: string): Promise<string> {
  const row = await store.db
    .selectFrom("signing_keys")
    .select("record")
    .where("kid", "=", kid)
    .executeTakeFirstOrThrow();
  return row.record;
}

describe.each(STORAGE_KINDS)("signing keys sealed at rest (%s)", (kind) => {
  let t: TestStore;
  let clock: ManualClock;
  beforeEach(async () => {
    t = await createTestStore(kind);
    clock = new ManualClock(Date.UTC(2026, 0, 1));
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it("stores the private key sealed and the public parts readable", async () => {
    const keys = signingKeys(t.store, clock);
    const created = await keys.ensureActiveKey();
    const rotated = await keys.rotate(admin);

    for (const kid of [created.kid, rotated.kid]) {
      const record = await storedRecord(t.store, kid);
      const parsed = JSON.parse(record) as Record<string, unknown>;
      expect(parsed).not.toHaveProperty("private_jwk");
      expect(parsed.sealed_private_jwk).toMatch(/^cs1\./);
      expect(parsed.public_jwk).toMatchObject({ kty: "OKP", crv: "Ed25519" });
      expect(parsed.kid).toBe(kid);
    }
    expect(await storedRecord(t.store, created.kid)).not.toContain(created.private_jwk.d);
    expect(await storedRecord(t.store, rotated.kid)).not.toContain(keys.activeKey().private_jwk.d);

    // A restart opens them again.
    const restarted = signingKeys(t.store, clock);
    expect((await restarted.ensureActiveKey()).private_jwk.d).toBe(keys.activeKey().private_jwk.d);
  });

  it("binds a sealed private key to its kid", async () => {
    const keys = signingKeys(t.store, clock);
    const first = await keys.ensureActiveKey();
    const { kid } = await keys.rotate(admin);
    // Someone with write access to the database moves the retired key's sealed half to the active
    // kid (only active keys are ever opened: a retired key's private half is never used again).
    const moved = JSON.parse(await storedRecord(t.store, first.kid)) as { sealed_private_jwk: string };
    const active = JSON.parse(await storedRecord(t.store, kid)) as Record<string, unknown>;
    await t.store.db
      .updateTable("signing_keys")
      .set({ record: JSON.stringify({ ...active, sealed_private_jwk: moved.sealed_private_jwk }) })
      .where("kid", "=", kid)
      .execute();
    await expect(signingKeys(t.store, clock).ensureActiveKey()).rejects.toThrow(SigningKeyError);
  });

  it("refuses, with a typed error, keys sealed under another secret key", async () => {
    await signingKeys(t.store, clock).ensureActiveKey();
    const other = new SharedSecretBox(depsOf(t.store, clock), {
      env: { COUNTERSIGN_SECRET_KEY: "another-secret-key-of-at-least-32-characters" },
    });
    await expect(signingKeys(t.store, clock, other).ensureActiveKey()).rejects.toThrow(
      /sealed with another key/,
    );
    await expect(signingKeys(t.store, clock, other).ensureActiveKey()).rejects.toThrow(SigningKeyError);
  });

  it("after the secret key is lost, retires the keys it sealed and starts afresh", async () => {
    const original = await signingKeys(t.store, clock).ensureActiveKey();
    const retiredBefore = await signingKeys(t.store, clock).rotate(admin);
    const lostKey = retiredBefore.kid;
    const other = () =>
      new SharedSecretBox(depsOf(t.store, clock), {
        env: { COUNTERSIGN_SECRET_KEY: "another-secret-key-of-at-least-32-characters" },
      });
    await expect(signingKeys(t.store, clock, other()).ensureActiveKey()).rejects.toThrow(
      /secrets recover --apply/,
    );
    // Only the active key needs its private half: the one retired earlier is not reported.
    const dry = await signingKeys(t.store, clock, other()).recoverUnreadable(false);
    expect(dry).toEqual([
      { kid: lostKey, reason: expect.stringMatching(/sealed with another key/), retired: false },
    ]);

    const applied = await signingKeys(t.store, clock, other()).recoverUnreadable(true);
    expect(applied.map((k) => [k.kid, k.retired])).toEqual([[lostKey, true]]);
    const keys = signingKeys(t.store, clock, other());
    const fresh = await keys.ensureActiveKey();
    expect([original.kid, lostKey]).not.toContain(fresh.kid);
    expect(
      keys
        .jwks()
        .keys.map((k) => k.kid)
        .sort(),
    ).toEqual([original.kid, lostKey, fresh.kid].sort());
    const audit = await listAudit(t.store.db, 0, 100);
    expect(audit.filter((e) => e.kind === "signing_key.retired_unreadable").map((e) => e.subject_id)).toEqual(
      [lostKey],
    );
    expect(verifyChain(audit).ok).toBe(true);
    // Run again: nothing left to retire.
    expect(await signingKeys(t.store, clock, other()).recoverUnreadable(true)).toEqual([]);
  });

  it("keeps using a plaintext record from an earlier version, and seals it on start", async () => {
    const legacy = generateSigningKey("sig_legacy", isoAt(clock.now()));
    const retired = { ...generateSigningKey("sig_legacy_retired", isoAt(clock.now() - 60_000)) };
    retired.retired_at = isoAt(clock.now());
    for (const key of [retired, legacy]) {
      await t.store.db
        .insertInto("signing_keys")
        .values({
          kid: key.kid,
          created_at: key.created_at,
          retired_at: key.retired_at,
          record: JSON.stringify(key),
        })
        .execute();
    }

    // Restarted after the upgrade (another store: nothing is cached).
    const keys = signingKeys(await t.reopen(), clock);
    const active = await keys.ensureActiveKey();
    expect(active.kid).toBe(legacy.kid);
    expect(active.private_jwk.d).toBe(legacy.private_jwk.d);
    expect(
      keys
        .jwks()
        .keys.map((k) => k.kid)
        .sort(),
    ).toEqual([legacy.kid, retired.kid].sort());

    for (const key of [legacy, retired]) {
      const record = await storedRecord(t.store, key.kid);
      expect(record).not.toContain(key.private_jwk.d);
      expect(JSON.parse(record)).toMatchObject({ kid: key.kid, retired_at: key.retired_at });
    }
    const audit = await listAudit(t.store.db, 0, 100);
    const sealed = audit.filter((e) => e.kind === "signing_key.sealed");
    expect(sealed.map((e) => e.subject_id).sort()).toEqual([legacy.kid, retired.kid].sort());
    expect(sealed[0]).toMatchObject({ actor: { type: "system" } });
    for (const key of [legacy, retired]) {
      expect(JSON.stringify(audit)).not.toContain(key.private_jwk.d);
      expect(sealed.find((e) => e.subject_id === key.kid)?.data).toEqual({
        kid: key.kid,
        public_jwk: key.public_jwk,
      });
    }
    expect(verifyChain(audit).ok).toBe(true);

    // Sealed once: the next start finds nothing to seal, and loads the same keys.
    const restarted = signingKeys(t.store, clock);
    expect((await restarted.ensureActiveKey()).private_jwk.d).toBe(legacy.private_jwk.d);
    const after = await listAudit(t.store.db, 0, 100);
    expect(after.filter((e) => e.kind === "signing_key.sealed")).toHaveLength(2);

    // Rotation retires the (formerly plaintext) key and the sealed records stay sealed.
    const { kid, retired: retiredKids } = await restarted.rotate(admin);
    expect(retiredKids).toEqual([legacy.kid]);
    expect(await storedRecord(t.store, legacy.kid)).not.toContain(legacy.private_jwk.d);
    await keys.reload();
    expect(keys.activeKey().kid).toBe(kid);
  });

  it("a rotation seals the plaintext record it retires", async () => {
    const legacy = generateSigningKey("sig_legacy", isoAt(clock.now()));
    await t.store.db
      .insertInto("signing_keys")
      .values({
        kid: legacy.kid,
        created_at: legacy.created_at,
        retired_at: null,
        record: JSON.stringify(legacy),
      })
      .execute();
    const keys = signingKeys(t.store, clock);
    // rotate() without a start: it reads the plaintext row under the write lock and retires it.
    const { retired } = await keys.rotate(admin);
    expect(retired).toEqual([legacy.kid]);
    expect(await storedRecord(t.store, legacy.kid)).not.toContain(legacy.private_jwk.d);
  });
});

describe("the server's secret box", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "countersign-sealing-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("is open before the first signing key is created, and shared with webhooks", async () => {
    const server = await startServer(testServerConfig({ dataDir: dir }), { logger: false });
    try {
      const { store } = server.services;
      const active = server.services.signingKeys.activeKey();
      const record = JSON.parse(await storedRecord(store, active.kid)) as { sealed_private_jwk: string };
      // Sealed under the data directory's key file (or COUNTERSIGN_SECRET_KEY when set), as webhooks are.
      const box = await openSecretBox(depsOf(store, new ManualClock(0)), { keyDir: dir });
      expect(record.sealed_private_jwk.split(".")[1]).toBe(box.keyId);
      const callbacks = await server.services.webhooks.callbackSigning();
      expect(callbacks.public_key).toMatch(/^whpk_/);
    } finally {
      await server.close();
    }
  });
});
