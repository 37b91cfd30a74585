import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { main } from "./main.ts";

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (s: string) => out.push(s), stderr: (s: string) => err.push(s) } };
}

describe("countersign CLI", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "countersign-cli-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("creates keys in the configured store without a running server", async () => {
    const c = capture();
    const code = await main(
      ["keys", "create", "--role", "agent", "--name", "nightly", "--data", dir],
      {},
      c.io,
    );
    expect(code).toBe(0);
    expect(c.out.join("\n")).toMatch(/cs_agent_[A-Za-z0-9_-]{43}/);
    const db = new DatabaseSync(join(dir, "countersign.db"));
    const rows = db.prepare("select name, role, secret_hash from keys").all();
    db.close();
    expect(rows).toEqual([
      { name: "nightly", role: "agent", secret_hash: expect.stringMatching(/^[0-9a-f]{64}$/) },
    ]);
  });

  it("reads the data directory from COUNTERSIGN_DATA_DIR", async () => {
    const c = capture();
    expect(
      await main(
        ["keys", "create", "--role", "reviewer", "--name", "ann"],
        { COUNTERSIGN_DATA_DIR: dir },
        c.io,
      ),
    ).toBe(0);
    const v = capture();
    expect(await main(["audit", "verify"], { COUNTERSIGN_DATA_DIR: dir }, v.io)).toBe(0);
    expect(v.out.join("")).toContain("audit chain intact: 1 entries");
  });

  it("refuses bad usage with exit code 2", async () => {
    const c = capture();
    expect(await main(["keys", "create", "--role", "root", "--name", "x", "--data", dir], {}, c.io)).toBe(2);
    expect(await main(["frobnicate"], {}, c.io)).toBe(2);
    expect(await main(["keys", "create", "--nope"], {}, c.io)).toBe(2);
  });

  it("audit verify exits 1 and names the first broken seq after tampering", async () => {
    const c = capture();
    for (const name of ["a", "b", "c"]) {
      await main(["keys", "create", "--role", "agent", "--name", name, "--data", dir], {}, c.io);
    }
    const db = new DatabaseSync(join(dir, "countersign.db"));
    db.prepare("update audit set data = ? where seq = 2").run(
      JSON.stringify({ name: "mallory", role: "admin" }),
    );
    db.close();
    const v = capture();
    expect(await main(["audit", "verify", "--data", dir], {}, v.io)).toBe(1);
    expect(v.err.join("")).toContain("BROKEN at seq 2");
  });
});
