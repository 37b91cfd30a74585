import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startChild } from "./child.ts";
import { load } from "./http-throughput.ts";
import { fmt, table } from "./stats.ts";

const POLICY = `version: 1
default: { decision: approval_required, reason: "unknown tools need a human" }
rules:
  - id: read-only-tools
    match: { tool: ["search.*", "docs.read", "crm.lookup"] }
    decision: allow
  - id: no-drops
    match: { tool: "db.*", args: "args.sql matches '(?i)drop'" }
    decision: deny
`;

const BODY = JSON.stringify({
  run_id: "bench-run",
  tool: "search.web",
  args: { query: "countersign approval gateway", limit: 10 },
  environment: "production",
  cost_usd: 0.001,
});

/** POST /v1/govern on the allow path (durable audit entry per call) beside a bare Fastify endpoint. */
export async function runGovernBench(seconds = Number(process.env.BENCH_SECONDS ?? 10)) {
  const dir = mkdtempSync(join(tmpdir(), "countersign-bench-policy-"));
  const policyFile = join(dir, "policy.yaml");
  writeFileSync(policyFile, POLICY);
  const bare = await startChild("./servers/bare-fastify.ts");
  const cs = await startChild("./servers/countersign-server.ts", [], { BENCH_POLICY_FILE: policyFile });
  try {
    const opts = { path: "/v1/govern", body: BODY, connections: 50, seconds };
    await load(bare.url, { ...opts, seconds: 2 });
    await load(cs.url, { ...opts, key: cs.extra.agent, seconds: 2 });
    const baseline = await load(bare.url, opts);
    const ours = await load(cs.url, { ...opts, key: cs.extra.agent });
    const ratio = ours.rps / baseline.rps;
    console.log(
      "\nPOST /v1/govern, allow path, 50 connections, loopback (durable audit entry per call, SQLite)",
    );
    console.log(
      table([
        {
          server: "bare Fastify (parse only)",
          "req/s": fmt(baseline.rps, 0),
          "p50 ms": baseline.p50,
          "p99 ms": baseline.p99,
          "errors/non-2xx": `${baseline.errors}/${baseline.non2xx}`,
        },
        {
          server: "Countersign govern (allow)",
          "req/s": fmt(ours.rps, 0),
          "p50 ms": ours.p50,
          "p99 ms": ours.p99,
          "errors/non-2xx": `${ours.errors}/${ours.non2xx}`,
        },
      ]),
    );
    console.log(`ratio: ${fmt(ratio * 100, 1)}% of bare Fastify (target ≥ 30%, p99 ≤ 10 ms)`);
    return { baseline, ours, ratio };
  } finally {
    await Promise.all([bare.stop(), cs.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) await runGovernBench();
