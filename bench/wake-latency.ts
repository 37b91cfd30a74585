import { Agent, request } from "node:http";
import { startChild } from "./child.ts";
import { fmt, summarise } from "./stats.ts";

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function http(
  base: string,
  method: string,
  path: string,
  key: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      `${base}${path}`,
      {
        method,
        agent,
        headers: {
          authorization: `Bearer ${key}`,
          ...(payload
            ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }
            : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString()) }),
        );
      },
    );
    req.on("error", reject);
    if (payload) req.write(payload);
    req.end();
  });
}

/**
 * Decision-to-wake latency: an agent is parked in `wait`; a reviewer responds; we time from the
 * moment the respond call is sent until the agent's long-poll returns with the decision.
 */
export async function runWakeLatencyBench(count = Number(process.env.BENCH_WAKES ?? 1000)) {
  const cs = await startChild("./servers/countersign-server.ts");
  const { agent: agentKey, reviewer } = cs.extra as Record<string, string>;
  try {
    const samples: number[] = [];
    for (let i = 0; i < count; i++) {
      const created = await http(cs.url, "POST", "/v1/requests", agentKey as string, {
        question: `wake ${i}`,
      });
      const id = String(created.json.id);
      const waiting = http(cs.url, "GET", `/v1/requests/${id}/wait?timeout_seconds=30`, agentKey as string);
      // Make sure the long-poll is parked before deciding: a GET of the request round-trips after it.
      await http(cs.url, "GET", `/v1/requests/${id}`, agentKey as string);
      const t0 = performance.now();
      const [, woken] = await Promise.all([
        http(cs.url, "POST", `/v1/requests/${id}/respond`, reviewer as string, { approved: true }),
        waiting.then((r) => ({ r, t: performance.now() })),
      ]);
      if (woken.r.json.status !== "approved") throw new Error(`wait returned ${String(woken.r.json.status)}`);
      samples.push(woken.t - t0);
    }
    const s = summarise(samples);
    console.log(
      `\nDecision-to-wake latency over ${s.n} decisions (respond sent → wait returned, SQLite durable)`,
    );
    console.log(`p50 ${fmt(s.p50)} ms   p99 ${fmt(s.p99)} ms   mean ${fmt(s.mean)} ms   (target p50 ≤ 5 ms)`);
    return s;
  } finally {
    await cs.stop();
    agent.destroy();
  }
}

if (import.meta.main) await runWakeLatencyBench();
