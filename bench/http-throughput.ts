import autocannon from "autocannon";
import { startChild } from "./child.ts";
import { fmt, table } from "./stats.ts";

export const CREATE_BODY = JSON.stringify({
  question: "Send the weekly summary to the customer?",
  context: { customer: "ACME Corp", week: 47, items: ["invoice", "report"] },
  tool: {
    name: "email.send",
    args: { to: "ops@acme.test", subject: "Weekly summary", body: "Hello from the agent" },
  },
  source: { integration: "bench", run_id: "run-bench" },
  priority: "normal",
});

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

export async function load(
  url: string,
  options: { path: string; body: string; key?: string; connections: number; seconds: number },
): Promise<LoadResult> {
  const result = await autocannon({
    url: `${url}${options.path}`,
    method: "POST",
    connections: options.connections,
    duration: options.seconds,
    headers: {
      "content-type": "application/json",
      ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
    },
    body: options.body,
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

export interface Comparison {
  rounds: Array<{ baseline: LoadResult; ours: LoadResult; ratio: number }>;
  /** The round with the median ratio: its figures are the ones reported. */
  median: { baseline: LoadResult; ours: LoadResult; ratio: number };
}

/**
 * Loads the baseline and our server alternately, `rounds` times, so a shift in the shared machine's
 * load between the two measurements skews one round instead of the result; reports every round and
 * the one with the median ratio.
 */
export async function compareAlternately(
  bare: { url: string },
  ours: { url: string; key: string },
  options: { path: string; body: string; connections: number; seconds: number; rounds: number },
): Promise<Comparison> {
  const opts = { path: options.path, body: options.body, connections: options.connections };
  await load(bare.url, { ...opts, seconds: 2 }); // warm-up
  await load(ours.url, { ...opts, key: ours.key, seconds: 2 });
  const rounds: Comparison["rounds"] = [];
  for (let i = 0; i < options.rounds; i++) {
    const baseline = await load(bare.url, { ...opts, seconds: options.seconds });
    const measured = await load(ours.url, { ...opts, key: ours.key, seconds: options.seconds });
    rounds.push({ baseline, ours: measured, ratio: measured.rps / baseline.rps });
  }
  const sorted = [...rounds].sort((a, b) => a.ratio - b.ratio);
  const median = sorted[Math.floor(sorted.length / 2)];
  if (!median) throw new Error("no rounds were run");
  return { rounds, median };
}

/** Prints every round of a comparison and its median. */
export function printComparison(title: string, ours: string, c: Comparison, target: string): void {
  console.log(`\n${title}`);
  const row = (server: string, r: LoadResult, round: number | string) => ({
    round,
    server,
    "req/s": fmt(r.rps, 0),
    "p50 ms": r.p50,
    "p99 ms": r.p99,
    "errors/non-2xx": `${r.errors}/${r.non2xx}`,
  });
  console.log(
    table(
      c.rounds
        .flatMap((r, i) => [
          row("bare Fastify (parse only)", r.baseline, i + 1),
          { ...row(ours, r.ours, i + 1), ratio: `${fmt(r.ratio * 100, 1)}%` },
        ])
        .map((r) => ({ ratio: "", ...r })),
    ),
  );
  console.log(
    `median of ${c.rounds.length} rounds: ${fmt(c.median.ours.rps, 0)} req/s (p50 ${c.median.ours.p50} ms, p99 ${c.median.ours.p99} ms) = ${fmt(c.median.ratio * 100, 1)}% of bare Fastify (${fmt(c.median.baseline.rps, 0)} req/s) — target ${target}`,
  );
}

/**
 * Starts a bare Fastify server and a real Countersign server (with `env`), loads one path of each
 * alternately with the same body from 50 connections, and prints the comparison.
 */
export async function benchAgainstBare(options: {
  path: string;
  body: string;
  title: string;
  label: string;
  target: string;
  env?: NodeJS.ProcessEnv;
  seconds: number;
  rounds: number;
}): Promise<Comparison> {
  const bare = await startChild("./servers/bare-fastify.ts");
  const cs = await startChild("./servers/countersign-server.ts", [], options.env ?? {});
  try {
    const c = await compareAlternately(
      bare,
      { url: cs.url, key: cs.extra.agent ?? "" },
      {
        path: options.path,
        body: options.body,
        connections: 50,
        seconds: options.seconds,
        rounds: options.rounds,
      },
    );
    printComparison(options.title, options.label, c, options.target);
    return c;
  } finally {
    await Promise.all([bare.stop(), cs.stop()]);
  }
}

/** Durable create-request throughput against SQLite, beside a bare Fastify endpoint parsing the same body. */
export function runCreateThroughputBench(
  seconds = Number(process.env.BENCH_SECONDS ?? 5),
  rounds = Number(process.env.BENCH_ROUNDS ?? 3),
): Promise<Comparison> {
  return benchAgainstBare({
    path: "/v1/requests",
    body: CREATE_BODY,
    title:
      "POST /v1/requests, 50 connections, loopback (SQLite, WAL fsynced before each answer, group commit)",
    label: "Countersign create (durable)",
    target: "≥ 30%",
    seconds,
    rounds,
  });
}

if (import.meta.main) await runCreateThroughputBench();
