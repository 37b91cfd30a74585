// A real Countersign server on a fresh SQLite database (WAL, every commit fsynced before it is
// acknowledged), for the benchmarks.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "../../packages/server/src/server.ts";

const dir = mkdtempSync(join(tmpdir(), "countersign-bench-"));
const adminKey = `cs_admin_${randomBytes(32).toString("base64url")}`;
const server = await startServer(
  {
    port: 0,
    host: "127.0.0.1",
    dataDir: dir,
    databaseUrl: undefined,
    policyFile: process.env.BENCH_POLICY_FILE,
    bootstrapAdminKey: adminKey,
    logLevel: "silent",
    expirySweepMs: 1000,
  },
  { logger: false },
);
const agent = await server.services.keys.create({ role: "agent", name: "bench agent" }, null);
const reviewer = await server.services.keys.create({ role: "reviewer", name: "bench reviewer" }, null);
process.stdout.write(
  `${JSON.stringify({ url: server.url, admin: adminKey, agent: agent.secret, reviewer: reviewer.secret })}\n`,
);
process.once("SIGTERM", () => {
  void server.close().then(() => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
});
