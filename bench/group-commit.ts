import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Principal } from "../packages/core/src/index.ts";
import { createServices } from "../packages/server/src/runtime.ts";
import { openSqliteStore } from "../packages/server/src/storage/sqlite.ts";
import { fmt, table } from "./stats.ts";

const agent: Principal = { key_id: "key_bench", name: "bench", role: "agent" };

async function measure(groupCommit: boolean, seconds: number, concurrency: number) {
  const dir = mkdtempSync(join(tmpdir(), "countersign-gc-"));
  const store = await openSqliteStore({ dataDir: dir, groupCommit });
  const services = createServices(store);
  let done = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await services.requests.create(agent, {
          question: "durable?",
          tool: { name: "t", args: { n: done } },
        });
        done++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const stats = { ...store.stats };
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    perSec: done / elapsed,
    commitsPerSec: stats.batches / elapsed,
    unitsPerCommit: stats.units / Math.max(1, stats.batches),
  };
}

/** Durable SQLite create-request commits per second, one fsync per write vs. group commit. */
export async function runGroupCommitBench(
  seconds = Number(process.env.BENCH_SECONDS ?? 5),
  concurrency = 64,
) {
  const single = await measure(false, seconds, concurrency);
  const grouped = await measure(true, seconds, concurrency);
  console.log(
    `\nDurable SQLite writes (create request + audit entry), ${concurrency} concurrent writers, WAL fsynced before each write is acknowledged`,
  );
  console.log(
    table([
      {
        mode: "one commit per write",
        "writes/s": fmt(single.perSec, 0),
        "commits/s": fmt(single.commitsPerSec, 0),
        "writes/commit": fmt(single.unitsPerCommit, 1),
      },
      {
        mode: "group commit",
        "writes/s": fmt(grouped.perSec, 0),
        "commits/s": fmt(grouped.commitsPerSec, 0),
        "writes/commit": fmt(grouped.unitsPerCommit, 1),
      },
    ]),
  );
  console.log(`group commit speed-up: ${fmt(grouped.perSec / single.perSec, 1)}×`);
  return { single, grouped };
}

if (import.meta.main) await runGroupCommitBench();
