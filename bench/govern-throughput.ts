import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { benchAgainstBare } from "./http-throughput.ts";

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
export async function runGovernBench(
  seconds = Number(process.env.BENCH_SECONDS ?? 5),
  rounds = Number(process.env.BENCH_ROUNDS ?? 3),
) {
  const dir = mkdtempSync(join(tmpdir(), "countersign-bench-policy-"));
  const policyFile = join(dir, "policy.yaml");
  writeFileSync(policyFile, POLICY);
  try {
    return await benchAgainstBare({
      path: "/v1/govern",
      body: BODY,
      title: "POST /v1/govern, allow path, 50 connections, loopback (durable audit entry per call, SQLite)",
      label: "Countersign govern (allow)",
      target: "≥ 30%, p99 ≤ 10 ms",
      env: { BENCH_POLICY_FILE: policyFile },
      seconds,
      rounds,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) await runGovernBench();
