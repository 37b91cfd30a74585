import { type AuditDraft, ConflictError, verifyChain } from "@countersign/core";
import { afterEach, describe, expect, it } from "vitest";
import { listAudit } from "../repos/audit-repo.ts";
import { insertKey } from "../repos/keys-repo.ts";
import { createTestStore, STORAGE_KINDS, type TestStore } from "../testing/harness.ts";
import { agentKeyRecord } from "../testing/key-records.ts";

function draft(subject: string): AuditDraft {
  return {
    at: "2026-01-01T00:00:00.000Z",
    kind: "test.event",
    subject_id: subject,
    correlation_id: "case-1",
    actor: { type: "system", name: "test" },
    data: { subject },
  };
}

describe.each(STORAGE_KINDS)("storage conformance (%s)", (kind) => {
  let t: TestStore | undefined;
  afterEach(async () => {
    await t?.cleanup();
    t = undefined;
  });

  it("migrates on open and again on reopen without error", async () => {
    t = await createTestStore(kind);
    const again = await t.reopen();
    await again.ping();
    expect(again.dialect).toBe(kind);
  });

  it("commits concurrent writes in shared batches and keeps one intact chain", async () => {
    t = await createTestStore(kind);
    const store = t.store;
    const n = 200;
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        store.write(async (ctx) => {
          await insertKey(ctx.db, agentKeyRecord(`key_${i}`));
          await ctx.appendAudit([draft(`key_${i}`)]);
        }),
      ),
    );
    expect(store.stats.units).toBe(n);
    expect(store.stats.batches).toBeLessThan(n);
    const entries = await listAudit(store.db, 0, 1000);
    expect(entries).toHaveLength(n);
    expect(verifyChain(entries)).toMatchObject({ ok: true, entries: n });
  });

  it("rolls back a failing unit alone; its neighbours in the batch commit", async () => {
    t = await createTestStore(kind);
    const store = t.store;
    const results = await Promise.allSettled([
      store.write(async (ctx) => {
        await insertKey(ctx.db, agentKeyRecord("key_a"));
        await ctx.appendAudit([draft("a")]);
      }),
      store.write(async (ctx) => {
        await insertKey(ctx.db, agentKeyRecord("key_b"));
        await ctx.appendAudit([draft("b")]);
        throw new ConflictError("nope", "this unit fails after writing");
      }),
      store.write(async (ctx) => {
        await insertKey(ctx.db, agentKeyRecord("key_c"));
        await ctx.appendAudit([draft("c")]);
      }),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
    const ids = (await store.db.selectFrom("keys").select("id").orderBy("id").execute()).map((r) => r.id);
    expect(ids).toEqual(["key_a", "key_c"]);
    const entries = await listAudit(store.db, 0, 100);
    expect(entries.map((e) => e.subject_id)).toEqual(["a", "c"]);
    expect(verifyChain(entries).ok).toBe(true);
  });

  it("rolls back a unit the database refuses; the batch runs again and its neighbours commit once", async () => {
    t = await createTestStore(kind);
    const store = t.store;
    await store.write((ctx) => insertKey(ctx.db, agentKeyRecord("key_taken")));
    const runs = { a: 0, c: 0 };
    const hooks: string[] = [];
    const results = await Promise.allSettled([
      store.write(async (ctx) => {
        runs.a++;
        await insertKey(ctx.db, agentKeyRecord("key_a"));
        await ctx.appendAudit([draft("a")]);
        ctx.afterCommit(() => hooks.push("a"));
      }),
      // A unique violation: on PostgreSQL it aborts the whole transaction, not just the statement.
      store.write(async (ctx) => {
        await ctx.appendAudit([draft("b")]);
        await insertKey(ctx.db, agentKeyRecord("key_taken"));
      }),
      store.write(async (ctx) => {
        runs.c++;
        // Sees the neighbour written earlier in the same batch, whichever attempt this is.
        const a = await ctx.db.selectFrom("keys").select("id").where("id", "=", "key_a").executeTakeFirst();
        await insertKey(ctx.db, agentKeyRecord(a ? "key_c_after_a" : "key_c_alone"));
        await ctx.appendAudit([draft("c")]);
        ctx.afterCommit(() => hooks.push("c"));
      }),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    const ids = (await store.db.selectFrom("keys").select("id").orderBy("id").execute()).map((r) => r.id);
    expect(ids).toEqual(["key_a", "key_c_after_a", "key_taken"]);
    const entries = await listAudit(store.db, 0, 100);
    expect(entries.map((e) => e.subject_id)).toEqual(["a", "c"]);
    expect(verifyChain(entries).ok).toBe(true);
    // The optimistic attempt and the retry with savepoints: neighbours may run twice, hooks fire once.
    expect(runs.a).toBeGreaterThanOrEqual(1);
    expect(hooks).toEqual(["a", "c"]);
  });

  it("runs after-commit hooks and publishes changes only for committed units", async () => {
    t = await createTestStore(kind);
    const store = t.store;
    const seen: string[] = [];
    const hooks: string[] = [];
    store.changes.subscribeAll((id) => seen.push(id));
    await Promise.allSettled([
      store.write(async (ctx) => {
        ctx.changed("ok-1");
        ctx.afterCommit(() => hooks.push("ok-1"));
      }),
      store.write(async (ctx) => {
        ctx.changed("bad");
        ctx.afterCommit(() => hooks.push("bad"));
        throw new Error("boom");
      }),
    ]);
    expect(hooks).toEqual(["ok-1"]);
    expect(seen).toContain("ok-1");
    expect(seen).not.toContain("bad");
  });

  it("keeps the chain single when a second store (replica or process) appends to the same database", async () => {
    t = await createTestStore(kind);
    const other = await t.reopen();
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 === 0 ? t?.store : other)?.write((ctx) => ctx.appendAudit([draft(`s${i}`)])),
      ),
    );
    const entries = await listAudit(other.db, 0, 100);
    expect(entries).toHaveLength(40);
    expect(verifyChain(entries).ok).toBe(true);
  });

  it("enforces one review per reviewer and unique external ids at the database", async () => {
    t = await createTestStore(kind);
    const store = t.store;
    const review = { id: "rev_1", request_id: "req_1", reviewer_key_id: "key_1", created_at: "x", doc: "{}" };
    await store.write((ctx) => ctx.db.insertInto("reviews").values(review).execute());
    await expect(
      store.write((ctx) =>
        ctx.db
          .insertInto("reviews")
          .values({ ...review, id: "rev_2" })
          .execute(),
      ),
    ).rejects.toThrow();
  });

  it.runIf(kind === "postgres")(
    "carries change signals to another replica through LISTEN/NOTIFY",
    async () => {
      t = await createTestStore(kind);
      const replica = await t.reopen();
      const received = new Promise<string>((resolve) => replica.changes.subscribe("req_remote", resolve));
      await t.store.write(async (ctx) => ctx.changed("req_remote"));
      await expect(received).resolves.toBe("req_remote");
    },
  );
});
