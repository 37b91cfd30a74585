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

/** Durable create-request throughput against SQLite, beside a bare Fastify endpoint parsing the same body. */
export async function runCreateThroughputBench(seconds = Number(process.env.BENCH_SECONDS ?? 10)) {
  const bare = await startChild("./servers/bare-fastify.ts");
  const cs = await startChild("./servers/countersign-server.ts");
  try {
    const opts = { path: "/v1/requests", body: CREATE_BODY, connections: 50, seconds };
    await load(bare.url, { ...opts, seconds: 2 }); // warm-up
    await load(cs.url, { ...opts, key: cs.extra.agent, seconds: 2 });
    const baseline = await load(bare.url, opts);
    const ours = await load(cs.url, { ...opts, key: cs.extra.agent });
    const ratio = ours.rps / baseline.rps;
    console.log("\nPOST /v1/requests, 50 connections, loopback (SQLite, synchronous=FULL, group commit)");
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
          server: "Countersign create (durable)",
          "req/s": fmt(ours.rps, 0),
          "p50 ms": ours.p50,
          "p99 ms": ours.p99,
          "errors/non-2xx": `${ours.errors}/${ours.non2xx}`,
        },
      ]),
    );
    console.log(`ratio: ${fmt(ratio * 100, 1)}% of bare Fastify (target ≥ 30%)`);
    return { baseline, ours, ratio };
  } finally {
    await Promise.all([bare.stop(), cs.stop()]);
  }
}

if (import.meta.main) await runCreateThroughputBench();
