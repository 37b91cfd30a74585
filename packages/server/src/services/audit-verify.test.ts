import { type Principal, verifyChain } from "@countersign/core";
import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createServices } from "../runtime.ts";
import { createTestStore, STORAGE_KINDS, type TestStore } from "../testing/harness.ts";

const agent: Principal = { key_id: "key_agent", name: "agent", role: "agent" };
const reviewer: Principal = { key_id: "key_reviewer", name: "reviewer", role: "reviewer" };

describe.each(STORAGE_KINDS)("audit verification catches tampering (%s)", (kind) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await createTestStore(kind);
    const services = createServices(t.store);
    for (let i = 0; i < 3; i++) {
      const { request } = await services.requests.create(agent, { question: `q${i}` });
      await services.requests.respond(reviewer, request.id, { approved: i !== 1, comment: `c${i}` });
    }
  });
  afterEach(() => t.cleanup());

  const verify = () => createServices(t.store).audit.verify();

  it("passes on an untouched log", async () => {
    expect(await verify()).toMatchObject({ ok: true, entries: 9 });
  });

  it("names the first altered entry", async () => {
    await sql`update audit set data = ${JSON.stringify({ status: "approved" })} where seq = 5`.execute(
      t.store.db,
    );
    expect(await verify()).toMatchObject({ ok: false, first_broken_seq: 5 });
  });

  it("names the gap a deleted entry leaves", async () => {
    await sql`delete from audit where seq = 4`.execute(t.store.db);
    expect(await verify()).toMatchObject({ ok: false, first_broken_seq: 4 });
  });

  it("catches reordered entries", async () => {
    // Swap the contents of entries 2 and 3, keeping their seq numbers.
    const rows = await t.store.db
      .selectFrom("audit")
      .selectAll()
      .where("seq", "in", [2, 3])
      .orderBy("seq")
      .execute();
    const [a, b] = rows;
    if (!a || !b) throw new Error("fixture rows missing");
    const { seq: _sa, ...restA } = a;
    const { seq: _sb, ...restB } = b;
    await t.store.db.updateTable("audit").set(restB).where("seq", "=", 2).execute();
    await t.store.db.updateTable("audit").set(restA).where("seq", "=", 3).execute();
    expect(await verify()).toMatchObject({ ok: false, first_broken_seq: 2 });
  });

  it("catches a truncated tail through the recorded head", async () => {
    await sql`delete from audit where seq = 9`.execute(t.store.db);
    const entries = await t.store.db.selectFrom("audit").select("seq").execute();
    expect(entries).toHaveLength(8);
    expect(await verify()).toMatchObject({ ok: false, first_broken_seq: 9 });
  });

  it("verifyChain agrees with the service on the raw entries", async () => {
    const page = await createServices(t.store).audit.list(0, 100);
    expect(verifyChain(page.data).ok).toBe(true);
  });
});
