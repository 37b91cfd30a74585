import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { type AuditEntry, chainEntry, GENESIS_HASH, verifyChain } from "@countersign/core";
import { Kysely, SqliteDialect, sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { listAudit } from "../../repos/audit-repo.ts";
import { migrateTo } from "../migrations.ts";
import { NodeSqliteBridge, openSqliteStore } from "../sqlite.ts";

describe("0008_lean_writes on SQLite", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it("rebuilds the audit table keyed by rowid without losing or changing an entry", async () => {
    dir = mkdtempSync(join(tmpdir(), "countersign-migration-"));
    const file = join(dir, "countersign.db");
    // A database as the previous version left it: migrated up to 0007, with a chain of entries.
    const old = new Kysely<unknown>({
      dialect: new SqliteDialect({ database: new NodeSqliteBridge(new DatabaseSync(file)) }),
    });
    await migrateTo(old, "0007_due_indexes");
    let head = { seq: 0, hash: GENESIS_HASH };
    const written: AuditEntry[] = [];
    for (let i = 0; i < 5; i++) {
      const entry = chainEntry(head, {
        at: `2026-01-01T00:00:0${i}.000Z`,
        kind: "action.logged",
        subject_id: `act_${i}`,
        correlation_id: i % 2 === 0 ? "run-1" : null,
        actor: { type: "system", name: "countersign" },
        data: { n: i, text: "ünïcode ✓" },
      });
      written.push(entry);
      head = { seq: entry.seq, hash: entry.hash };
      await sql`insert into audit (seq, at, kind, subject_id, correlation_id, owner_key_id, actor, data, prev_hash, hash)
        values (${entry.seq}, ${entry.at}, ${entry.kind}, ${entry.subject_id}, ${entry.correlation_id}, ${null},
                ${JSON.stringify(entry.actor)}, ${JSON.stringify(entry.data)}, ${entry.prev_hash}, ${entry.hash})`.execute(
        old,
      );
    }
    await sql`update audit_head set seq = ${head.seq}, hash = ${head.hash} where id = 1`.execute(old);
    await old.destroy();

    // Opening the store applies 0008.
    const store = await openSqliteStore({ dataDir: dir });
    try {
      const before = await listAudit(store.db, 0, 100);
      expect(before).toEqual(written);
      expect(verifyChain(before).ok).toBe(true);
      const ddl = await sql<{ sql: string }>`select sql from sqlite_master where name = 'audit'`.execute(
        store.db,
      );
      expect(ddl.rows[0]?.sql).toMatch(/seq integer primary key/i);
      const indexes = await sql<{
        name: string;
      }>`select name from sqlite_master where type = 'index' and tbl_name in ('audit', 'governed_calls') order by name`.execute(
        store.db,
      );
      expect(indexes.rows.map((r) => r.name)).toEqual([
        "audit_correlation",
        "audit_subject",
        "sqlite_autoindex_governed_calls_1",
        "sqlite_autoindex_governed_calls_2",
      ]);
      // The chain goes on from where it was.
      await store.write((ctx) =>
        ctx.appendAudit([
          {
            at: "2026-01-01T00:01:00.000Z",
            kind: "action.logged",
            subject_id: "act_5",
            correlation_id: "run-1",
            actor: { type: "system", name: "countersign" },
            data: {},
          },
        ]),
      );
      const after = await listAudit(store.db, 0, 100);
      expect(after).toHaveLength(6);
      expect(after[5]?.seq).toBe(6);
      expect(verifyChain(after).ok).toBe(true);
    } finally {
      await store.close();
    }
  });
});
