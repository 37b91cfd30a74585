import { randomBytes } from "node:crypto";
import { type Clock, IdGenerator, ManualClock, type Principal, type RandomSource } from "@countersign/core";
import { afterEach, describe, expect, it } from "vitest";
import { revokeKey } from "../repos/keys-repo.ts";
import type { Store } from "../storage/store.ts";
import { createTestStore, STORAGE_KINDS, type TestStore } from "../testing/harness.ts";
import { KeysService } from "./keys-service.ts";
import { PRINCIPAL_TTL_MS, PrincipalCache } from "./principal-cache.ts";

const random: RandomSource = { bytes: (n) => new Uint8Array(randomBytes(n)) };
const admin: Principal = { key_id: "key_admin", name: "admin", role: "admin" };

function keysOn(store: Store, clock: Clock): KeysService {
  return new KeysService({ store, clock, random, ids: new IdGenerator(clock, random) });
}

describe("PrincipalCache", () => {
  it("forgets an entry once its time is up, and everything on clear", () => {
    const clock = new ManualClock(1_000);
    const cache = new PrincipalCache(() => clock.now(), 100);
    const p: Principal = { key_id: "key_1", name: "one", role: "agent" };
    cache.set("h1", p);
    expect(cache.get("h1")).toBe(p);
    clock.advance(99);
    expect(cache.get("h1")).toBe(p);
    clock.advance(1);
    expect(cache.get("h1")).toBeUndefined();
    cache.set("h1", p);
    cache.clear();
    expect(cache.get("h1")).toBeUndefined();
  });
});

describe.each(STORAGE_KINDS)("key authentication with remembered principals (%s)", (kind) => {
  let t: TestStore | undefined;
  afterEach(async () => {
    await t?.cleanup();
    t = undefined;
  });

  it("refuses a revoked key at once, on this replica and on another one", async () => {
    t = await createTestStore(kind);
    const clock = new ManualClock(Date.parse("2026-01-01T00:00:00Z"));
    const a = keysOn(t.store, clock);
    const b = keysOn(await t.reopen(), clock);
    const { key, secret } = await a.create({ role: "agent", name: "bot" }, admin);
    expect(await a.authenticate(secret)).toMatchObject({ key_id: key.id, role: "agent" });
    expect(await b.authenticate(secret)).toMatchObject({ key_id: key.id, role: "agent" });

    await a.revoke(key.id, admin);
    expect(await a.authenticate(secret)).toBeUndefined();
    // The other replica hears of it through the change bus (LISTEN/NOTIFY on PostgreSQL); on SQLite
    // a second store in this process shares nothing, so it waits for the remembered entry to lapse.
    if (kind === "postgres") {
      await expect.poll(() => b.authenticate(secret), { timeout: 5_000 }).toBeUndefined();
    } else {
      clock.advance(PRINCIPAL_TTL_MS);
      expect(await b.authenticate(secret)).toBeUndefined();
    }
  });

  it("notices, within the TTL, a revocation written behind its back", async () => {
    t = await createTestStore(kind);
    const clock = new ManualClock(Date.parse("2026-01-01T00:00:00Z"));
    const keys = keysOn(t.store, clock);
    const { key, secret } = await keys.create({ role: "reviewer", name: "ops" }, admin);
    expect(await keys.authenticate(secret)).toBeDefined();
    // Another process on the same database (the CLI, say) revokes the key: no signal reaches us.
    await t.store.write((ctx) => revokeKey(ctx.db, key.id, new Date(clock.now()).toISOString()));
    expect(await keys.authenticate(secret)).toBeDefined();
    clock.advance(PRINCIPAL_TTL_MS);
    expect(await keys.authenticate(secret)).toBeUndefined();
  });

  it("finds a key created elsewhere on its first use (failures are never remembered)", async () => {
    t = await createTestStore(kind);
    const clock = new ManualClock(Date.parse("2026-01-01T00:00:00Z"));
    const a = keysOn(t.store, clock);
    const b = keysOn(await t.reopen(), clock);
    const secret = `cs_agent_${randomBytes(32).toString("base64url")}`;
    expect(await a.authenticate(secret)).toBeUndefined();
    await b.create({ role: "agent", name: "late", secret }, admin);
    expect(await a.authenticate(secret)).toMatchObject({ role: "agent", name: "late" });
  });
});
