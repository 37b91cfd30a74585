import { execFile, execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../server/src/testing/harness.ts";
import { type PackageManifest, publishedManifest, referencedFiles } from "../scripts/publish-manifest.ts";

/*
 * The SDK as published: compiled by tsconfig.build.json, installed under node_modules with the
 * package.json npm packs, and imported by name from plain JavaScript on a Node older than the one
 * running the tests (one that cannot run the TypeScript sources), against a real server.
 */

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "..", "..", "..");
const SDK_DIR = join(ROOT, "packages", "sdk");
/** engines.node: an older binary outside the supported range proves nothing. */
const MIN_NODE_MAJOR = 18;

interface NodeBinary {
  path: string;
  version: string;
  major: number;
}

const CURRENT_MAJOR = Number(process.versions.node.split(".")[0]);

/** The oldest supported Node on this machine that is older than the one running the tests. */
function findOlderNode(): NodeBinary | undefined {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/local/bin", "/usr/bin"];
  const seen = new Set<string>();
  const older: NodeBinary[] = [];
  for (const dir of dirs) {
    if (!dir || !existsSync(join(dir, "node"))) continue;
    const path = realpathSync(join(dir, "node"));
    if (seen.has(path)) continue;
    seen.add(path);
    try {
      const version = execFileSync(path, ["--version"], {
        encoding: "utf8",
        env: {},
        timeout: 10_000,
      }).trim();
      const major = Number(/^v(\d+)\./.exec(version)?.[1]);
      if (major >= MIN_NODE_MAJOR && major < CURRENT_MAJOR) older.push({ path, version, major });
    } catch {
      // not a runnable node: ignore it
    }
  }
  return older.sort((a, b) => a.major - b.major)[0];
}

const OLDER_NODE = findOlderNode();
if (!OLDER_NODE) {
  const line = "=".repeat(78);
  console.warn(
    `\n${line}\n  SDK old-runtime check SKIPPED: no Node ${MIN_NODE_MAJOR}–${CURRENT_MAJOR - 1} found ` +
      `on PATH, /usr/local/bin or /usr/bin.\n  The built SDK was not run on an older Node: install one ` +
      `(Node 20, say) to check it.\n${line}\n`,
  );
}

/** Every module specifier in a compiled file: imports and re-exports, dynamic imports, requires. */
function specifiers(js: string): string[] {
  const patterns = [
    /^\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/gm,
    /^\s*import\s*["']([^"']+)["']/gm,
    /\b(?:import|require)\s*\(\s*["']([^"']+)["']/g,
  ];
  return patterns.flatMap((pattern) => [...js.matchAll(pattern)].map((match) => match[1] ?? ""));
}

let tmp: string;
let packageDir: string;
let published: PackageManifest;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "countersign-sdk-dist-"));
  packageDir = join(tmp, "node_modules", "@countersign", "sdk");
  mkdirSync(packageDir, { recursive: true });
  const tsc = join(ROOT, "node_modules", ".bin", "tsc");
  const config = join(SDK_DIR, "tsconfig.build.json");
  await run(process.execPath, [tsc, "-p", config, "--outDir", join(packageDir, "dist")], { cwd: ROOT });
  const workspace = JSON.parse(readFileSync(join(SDK_DIR, "package.json"), "utf8")) as PackageManifest;
  published = publishedManifest(workspace);
  writeFileSync(join(packageDir, "package.json"), JSON.stringify(published, null, 2));
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("the build", () => {
  it("emits JavaScript and declarations for the library only", () => {
    const files = readdirSync(join(packageDir, "dist"), { recursive: true, encoding: "utf8" });
    const js = files.filter((file) => file.endsWith(".js"));

    expect(js).toContain("index.js");
    expect(js.filter((file) => /\.test\.js$|test-fixtures/.test(file))).toEqual([]);
    for (const file of js) expect(files).toContain(file.replace(/\.js$/, ".d.ts"));
    expect(files.filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"))).toEqual([]);
  });

  it("imports nothing but its own compiled files: no node: modules, no packages, no .ts", () => {
    const dist = join(packageDir, "dist");
    const js = readdirSync(dist, { recursive: true, encoding: "utf8" }).filter((file) =>
      file.endsWith(".js"),
    );
    const imported = new Set<string>();
    for (const file of js) {
      const text = readFileSync(join(dist, file), "utf8");
      expect(text, file).not.toContain('from "node:');
      for (const specifier of specifiers(text)) imported.add(specifier);
    }

    expect(imported.size).toBeGreaterThan(0);
    expect([...imported].filter((specifier) => !/^\.\.?\/[^"']+\.js$/.test(specifier))).toEqual([]);
  });

  it("holds every file the published package.json names", () => {
    const files = referencedFiles(published);
    expect(files).toContain("./dist/index.js");
    expect(files.filter((file) => !existsSync(join(packageDir, file)))).toEqual([]);
  });
});

describe.skipIf(!OLDER_NODE)(
  `the built SDK on an older Node (${OLDER_NODE?.version ?? "none found"})`,
  () => {
    let server: TestServer;
    let agentKey: string;
    let reviewerKey: string;

    beforeAll(async () => {
      server = await startTestServer();
      agentKey = await server.createKey("agent");
      reviewerKey = await server.createKey("reviewer");
    });

    afterAll(async () => {
      await server?.close();
    });

    // Node < 22.6 has no type stripping: what runs there can only be the build.
    it.runIf((OLDER_NODE?.major ?? 0) < 22)("cannot run the TypeScript sources", async () => {
      const node = OLDER_NODE as NodeBinary;
      const source = JSON.stringify(join(SDK_DIR, "src", "index.ts"));
      await expect(
        run(node.path, ["--input-type=module", "-e", `await import(${source})`], {
          env: {},
          timeout: 20_000,
        }),
      ).rejects.toThrow(/ERR_UNKNOWN_FILE_EXTENSION|Unknown file extension/);
    });

    it("creates a request with an agent key, a reviewer approves it, the wait returns the decision", async () => {
      const node = OLDER_NODE as NodeBinary;
      const script = join(tmp, "smoke.mjs");
      writeFileSync(
        script,
        `import { argsHash, CountersignClient, isTerminal } from "@countersign/sdk";

const agent = new CountersignClient(); // COUNTERSIGN_URL and COUNTERSIGN_API_KEY from the environment
const reviewer = new CountersignClient({ baseUrl: process.env.COUNTERSIGN_URL, apiKey: process.env.REVIEWER_KEY });
const args = { order: 42, amount: 120 };
const { request } = await agent.createRequest({
  question: "Refund $120 to order 42?",
  tool: { name: "payments.refund", args },
});
const waiting = agent.waitForDecision(request.id, { pollSeconds: 10 });
await reviewer.respond(request.id, { approved: true, comment: "fine" });
const decided = await waiting;
console.log(JSON.stringify({
  node: process.version,
  id: request.id,
  decidedId: decided.id,
  status: decided.status,
  terminal: isTerminal(decided.status),
  comment: decided.response?.comment,
  decidedAtIsDate: decided.response?.decided_at instanceof Date,
  serverArgsHash: request.tool?.args_hash,
  argsHash: globalThis.crypto?.subtle ? await argsHash(args) : null,
}));
`,
      );

      const { stdout } = await run(node.path, [script], {
        cwd: tmp,
        // Only what the script needs: nothing from the test runner (NODE_OPTIONS, loaders) leaks in.
        env: { COUNTERSIGN_URL: server.url, COUNTERSIGN_API_KEY: agentKey, REVIEWER_KEY: reviewerKey },
        timeout: 20_000,
      });
      const result = JSON.parse(stdout) as Record<string, unknown>;

      expect(result.node).toBe(node.version);
      expect(result.decidedId).toBe(result.id);
      expect(result.status).toBe("approved");
      expect(result.terminal).toBe(true);
      expect(result.comment).toBe("fine");
      expect(result.decidedAtIsDate).toBe(true);
      expect(result.serverArgsHash).toMatch(/^sha256:[0-9a-f]{64}$/);
      // WebCrypto is global from Node 19; where it is, the offline hash matches the server's.
      if (node.major >= 19) expect(result.argsHash).toBe(result.serverArgsHash);
    });
  },
);
