import { randomBytes } from "node:crypto";
import {
  type Clock,
  IdGenerator,
  ManualClock,
  type Principal,
  type RandomSource,
  SigningKeyError,
  verifyChain,
} from "@countersign/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { listAudit } from "../repos/audit-repo.ts";
import type { Store } from "../storage/store.ts";
import { createTestStore, STORAGE_KINDS, type TestStore } from "../testing/harness.ts";
import { type SigningKeysOptions, SigningKeysService } from "./signing-keys-service.ts";

const admin: Principal = { key_id: "key_admin", name: "admin", role: "admin" };
const random: RandomSource = { bytes: (n) => new Uint8Array(randomBytes(n)) };

function signingKeys(store: Store, clock: Clock, options: SigningKeysOptions = {}): SigningKeysService {
  return new SigningKeysService({ store, clock, random, ids: new IdGenerator(clock, random) }, options);
}

const kidsOf = (jwks: { keys: Array<{ kid: string }> }) => jwks.keys.map((k) => k.kid).sort();

describe.each(STORAGE_KINDS)("signing keys (%s)", (kind) => {
  let t: TestStore;
  let clock: ManualClock;
  const started: SigningKeysService[] = [];
  beforeEach(async () => {
    t = await createTestStore(kind);
    clock = new ManualClock(Date.UTC(2026, 0, 1));
  });
  afterEach(async () => {
    for (const s of started.splice(0)) await s.stop();
    await t.cleanup();
  });

  it("creates one key on first start, audited, and reuses it afterwards", async () => {
    const first = await signingKeys(t.store, clock).ensureActiveKey();
    expect(first.kid).toMatch(/^sig_[0-9A-Z]{26}$/);
    expect(first.retired_at).toBeNull();

    const again = await signingKeys(t.store, clock).ensureActiveKey();
    expect(again.kid).toBe(first.kid);
    expect(again.private_jwk.d).toBe(first.private_jwk.d);

    const rows = await t.store.db.selectFrom("signing_keys").selectAll().execute();
    expect(rows.map((r) => r.kid)).toEqual([first.kid]);
    const audit = await listAudit(t.store.db, 0, 100);
    expect(audit.map((e) => e.kind)).toEqual(["signing_key.created"]);
    expect(audit[0]?.data).toEqual({ kid: first.kid, public_jwk: first.public_jwk });
    expect(JSON.stringify(audit)).not.toContain(first.private_jwk.d);
  });

  it("creates exactly one key when two replicas start at once", async () => {
    const other = await t.reopen();
    const [a, b] = await Promise.all([
      signingKeys(t.store, clock).ensureActiveKey(),
      signingKeys(other, clock).ensureActiveKey(),
    ]);
    expect(a.kid).toBe(b.kid);
    const rows = await t.store.db.selectFrom("signing_keys").select("kid").execute();
    expect(rows).toHaveLength(1);
  });

  it("publishes only public members", async () => {
    const keys = signingKeys(t.store, clock);
    const active = await keys.ensureActiveKey();
    expect(keys.jwks()).toEqual({
      keys: [
        { kty: "OKP", crv: "Ed25519", x: active.public_jwk.x, kid: active.kid, alg: "EdDSA", use: "sig" },
      ],
    });
  });

  it("refuses to sign before the keyring is loaded", () => {
    expect(() => signingKeys(t.store, clock).activeKey()).toThrow(SigningKeyError);
  });

  it("rotates: the new key signs, the old one is retired but still published", async () => {
    const keys = signingKeys(t.store, clock);
    const old = await keys.ensureActiveKey();
    clock.advance(1000);
    const rotation = await keys.rotate(admin);

    expect(rotation.retired).toEqual([old.kid]);
    expect(keys.activeKey().kid).toBe(rotation.kid);
    expect(rotation.kid).not.toBe(old.kid);
    expect(kidsOf(keys.jwks())).toEqual([old.kid, rotation.kid].sort());

    const stored = await t.store.db
      .selectFrom("signing_keys")
      .selectAll()
      .where("kid", "=", old.kid)
      .execute();
    expect(stored[0]?.retired_at).toBe(new Date(clock.now()).toISOString());
    expect(JSON.parse(stored[0]?.record ?? "{}").retired_at).toBe(stored[0]?.retired_at);

    const audit = await listAudit(t.store.db, 0, 100);
    const rotated = audit.find((e) => e.kind === "signing_key.rotated");
    expect(rotated).toMatchObject({
      subject_id: rotation.kid,
      actor: { type: "key", key_id: admin.key_id },
      data: { kid: rotation.kid, retired: [old.kid] },
    });
    expect(verifyChain(audit).ok).toBe(true);

    // A restart loads the same state from the database.
    const restarted = signingKeys(t.store, clock);
    expect((await restarted.ensureActiveKey()).kid).toBe(rotation.kid);
    expect(kidsOf(restarted.jwks())).toEqual(kidsOf(keys.jwks()));
  });

  it("drops a retired key from the JWKS only once every token it signed has expired", async () => {
    const options = { maxTokenLifetimeSeconds: 600, refreshIntervalMs: 10_000, clockSkewSeconds: 30 };
    const keys = signingKeys(t.store, clock, options);
    const old = await keys.ensureActiveKey();
    const { kid } = await keys.rotate(admin);
    // Lifetime, plus a refresh interval in which a replica may still sign with it, plus skew.
    const droppableAfterMs = (600 + 10 + 30) * 1000;
    clock.advance(droppableAfterMs - 1);
    expect(kidsOf(keys.jwks())).toEqual([old.kid, kid].sort());
    clock.advance(1);
    expect(kidsOf(keys.jwks())).toEqual([kid]);
  });

  it("a rotation on a replica with a stale cache retires the key another replica made active", async () => {
    const a = signingKeys(t.store, clock);
    const b = signingKeys(await t.reopen(), clock);
    const first = await a.ensureActiveKey();
    await b.ensureActiveKey();
    const byA = await a.rotate(admin);
    const byB = await b.rotate(admin);

    expect(byB.retired).toEqual([byA.kid]);
    const active = await t.store.db
      .selectFrom("signing_keys")
      .select("kid")
      .where("retired_at", "is", null)
      .execute();
    expect(active.map((r) => r.kid)).toEqual([byB.kid]);
    expect(kidsOf(b.jwks())).toEqual([first.kid, byA.kid, byB.kid].sort());
  });

  it("another replica picks up a rotation by reloading", async () => {
    const a = signingKeys(t.store, clock);
    const b = signingKeys(await t.reopen(), clock);
    const first = await a.ensureActiveKey();
    expect((await b.ensureActiveKey()).kid).toBe(first.kid);
    const { kid } = await a.rotate(admin);

    expect(b.activeKey().kid).toBe(first.kid);
    await b.reload();
    expect(b.activeKey().kid).toBe(kid);
    expect(b.activeKey().retired_at).toBeNull();
    expect(kidsOf(b.jwks())).toEqual([first.kid, kid].sort());
  });

  it("a started replica picks up a rotation without being asked", async () => {
    const a = signingKeys(t.store, clock);
    const b = signingKeys(await t.reopen(), clock, { refreshIntervalMs: 20 });
    started.push(b);
    await a.ensureActiveKey();
    await b.start();
    const { kid } = await a.rotate(admin);
    await vi.waitFor(() => expect(b.activeKey().kid).toBe(kid), { timeout: 5000, interval: 10 });
  });

  it("resolves a kid stored by another replica, and only such a kid", async () => {
    const a = signingKeys(t.store, clock);
    const b = signingKeys(await t.reopen(), clock);
    await a.ensureActiveKey();
    await b.ensureActiveKey();
    const { kid } = await a.rotate(admin);

    expect(await b.resolve("sig_nowhere")).toBe(false);
    expect(kidsOf(b.jwks())).not.toContain(kid);
    expect(await b.resolve(kid)).toBe(true);
    expect(kidsOf(b.jwks())).toContain(kid);
    expect(await b.resolve(kid)).toBe(false);
  });

  it("refuses to load a damaged key record", async () => {
    const keys = signingKeys(t.store, clock);
    const active = await keys.ensureActiveKey();
    const damaged = { ...active, private_jwk: { ...active.private_jwk, d: active.public_jwk.x } };
    await t.store.db
      .updateTable("signing_keys")
      .set({ record: JSON.stringify(damaged) })
      .where("kid", "=", active.kid)
      .execute();
    await expect(signingKeys(t.store, clock).ensureActiveKey()).rejects.toThrow(SigningKeyError);
  });

  it("refuses nonsensical options", () => {
    expect(() => signingKeys(t.store, clock, { maxTokenLifetimeSeconds: 0 })).toThrow(RangeError);
    expect(() => signingKeys(t.store, clock, { refreshIntervalMs: Number.NaN })).toThrow(RangeError);
  });
});
