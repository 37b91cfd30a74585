import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ServerConfig } from "../config.ts";
import { startServer } from "../server.ts";
import { testServerConfig } from "../testing/harness.ts";
import { main } from "./main.ts";

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (s: string) => out.push(s), stderr: (s: string) => err.push(s) } };
}

const agent = { key_id: "key_backup_test", name: "backup test", role: "agent" as const };

describe("countersign backup", () => {
  let dir: string;
  let dest: string;
  const config = (dataDir: string): ServerConfig => testServerConfig({ dataDir });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "countersign-backup-"));
    dest = mkdtempSync(join(tmpdir(), "countersign-backup-to-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(dest, { recursive: true, force: true });
  });

  it("copies the database while the server is writing, and the copy serves as a data directory", async () => {
    const server = await startServer(config(dir), { logger: false });
    let before: string[];
    const c = capture();
    try {
      const requests = server.services.requests;
      const create = (i: number) => requests.create(agent, { question: `backup ${i}` });
      before = (await Promise.all(Array.from({ length: 20 }, (_, i) => create(i)))).map((o) => o.request.id);
      // Writes keep arriving while the copy is taken.
      let writing = true;
      const writer = (async () => {
        for (let i = 100; writing; i++) await create(i);
      })();
      try {
        expect(await main(["backup", "--to", dest, "--data", dir, "--include-key-file"], {}, c.io)).toBe(0);
      } finally {
        writing = false;
        await writer;
      }
    } finally {
      await server.close();
    }
    expect(c.out.join("\n")).toMatch(/integrity ok, audit chain intact \(\d+ entries, head [0-9a-f]{64}\)/);
    expect(statSync(join(dest, "webhook-secrets.key")).mode & 0o777).toBe(0o600);
    expect(await main(["audit", "verify", "--data", dest], {}, capture().io)).toBe(0);

    const restored = await startServer(config(dest), { logger: false });
    try {
      for (const id of before) expect((await restored.services.requests.get(agent, id)).id).toBe(id);
    } finally {
      await restored.close();
    }
  });

  it("leaves the secret key file out unless asked, and says so", async () => {
    const server = await startServer(config(dir), { logger: false });
    await server.close();
    const c = capture();
    expect(await main(["backup", "--to", dest, "--data", dir], {}, c.io)).toBe(0);
    expect(existsSync(join(dest, "webhook-secrets.key"))).toBe(false);
    expect(c.out.join("\n")).toMatch(/Not copied: .*webhook-secrets\.key/);
  });

  it("refuses to overwrite, to run without --to, and to copy PostgreSQL", async () => {
    const server = await startServer(config(dir), { logger: false });
    await server.close();
    writeFileSync(join(dest, "countersign.db"), "");
    const exists = capture();
    expect(await main(["backup", "--to", dest, "--data", dir], {}, exists.io)).toBe(1);
    expect(exists.err.join("\n")).toMatch(/already exists/);
    const noTarget = capture();
    expect(await main(["backup", "--data", dir], {}, noTarget.io)).toBe(2);
    const pg = capture();
    expect(
      await main(["backup", "--to", join(dest, "pg"), "--database-url", "postgres://localhost/x"], {}, pg.io),
    ).toBe(2);
    expect(pg.err.join("\n")).toMatch(/pg_dump/);
    const nothing = capture();
    expect(
      await main(["backup", "--to", join(dest, "n"), "--data", join(dir, "missing")], {}, nothing.io),
    ).toBe(1);
  });
});
