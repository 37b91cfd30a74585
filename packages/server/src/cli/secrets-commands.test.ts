import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
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

describe("countersign secrets recover", () => {
  let dir: string;
  let config: ServerConfig;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "countersign-recover-"));
    config = testServerConfig({ dataDir: dir });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("gets a server whose key file was lost running again, keeping the old key's tokens verifiable", async () => {
    const first = await startServer(config, { logger: false });
    const oldKid = first.services.signingKeys.activeKey().kid;
    await first.close();

    rmSync(join(dir, "webhook-secrets.key"));
    await expect(startServer(config, { logger: false })).rejects.toThrow(
      /countersign secrets recover --apply/,
    );

    // Without --apply it only says what it would do.
    const dry = capture();
    expect(await main(["secrets", "recover", "--data", dir], {}, dry.io)).toBe(0);
    expect(dry.out.join("\n")).toMatch(new RegExp(`${oldKid}: .*cannot be opened[\\s\\S]*would be retired`));
    await expect(startServer(config, { logger: false })).rejects.toThrow(/cannot be opened/);

    const applied = capture();
    expect(await main(["secrets", "recover", "--apply", "--data", dir], {}, applied.io)).toBe(0);
    expect(applied.out.join("\n")).toMatch(new RegExp(`${oldKid}: [^\\n]*\\n\\s+retired`));

    const again = await startServer(config, { logger: false });
    try {
      const keys = again.services.signingKeys;
      expect(keys.activeKey().kid).not.toBe(oldKid);
      // The retired key's public half is still published for the tokens it signed.
      expect(keys.jwks().keys.map((k) => k.kid)).toEqual(
        expect.arrayContaining([oldKid, keys.activeKey().kid]),
      );
    } finally {
      await again.close();
    }

    const nothing = capture();
    expect(await main(["secrets", "recover", "--apply", "--data", dir], {}, nothing.io)).toBe(0);
    expect(nothing.out.join("\n")).toMatch(/nothing to do/);
    expect(await main(["audit", "verify", "--data", dir], {}, capture().io)).toBe(0);
    const db = new DatabaseSync(join(dir, "countersign.db"));
    const entries = db
      .prepare("select subject_id, actor from audit where kind = 'signing_key.retired_unreadable'")
      .all();
    db.close();
    expect(entries).toEqual([{ subject_id: oldKid, actor: expect.stringContaining('"system"') }]);
  });

  it("refuses anything but `recover`", async () => {
    const c = capture();
    expect(await main(["secrets", "rotate", "--data", dir], {}, c.io)).toBe(2);
    expect(c.err.join("\n")).toMatch(/usage: countersign secrets recover/);
  });
});
