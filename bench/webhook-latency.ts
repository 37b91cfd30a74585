// Decision-to-callback latency and webhook delivery throughput, against a real `countersign serve`
// (its own process, SQLite durable) and a local receiver in this process.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ReceivedWebhook, startReceiver } from "../packages/server/src/webhooks/testing.ts";
import { fmt, summarise } from "./stats.ts";

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function http(
  base: string,
  method: string,
  path: string,
  key: string | undefined,
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
          ...(key ? { authorization: `Bearer ${key}` } : {}),
          ...(payload
            ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }
            : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : {} });
        });
      },
    );
    req.on("error", reject);
    if (payload) req.write(payload);
    req.end();
  });
}

async function startCountersign(
  dataDir: string,
  adminKey: string,
): Promise<{ url: string; child: ChildProcess }> {
  const cli = fileURLToPath(new URL("../packages/server/bin/countersign.js", import.meta.url));
  const child = spawn(
    process.execPath,
    [
      cli,
      "serve",
      "--port",
      "0",
      "--data",
      dataDir,
      "--outbound-allowlist",
      "127.0.0.1/32",
      "--callback-allowlist",
      "127.0.0.1/32",
    ],
    {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, COUNTERSIGN_BOOTSTRAP_ADMIN_KEY: adminKey, COUNTERSIGN_LOG_LEVEL: "silent" },
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`countersign exited with ${code}: ${out}`)));
  });
  return { url, child };
}

const subjectOf = (hook: ReceivedWebhook) => (JSON.parse(hook.body) as { data: { id: string } }).data.id;

/**
 * Decision-to-callback: a request with a callback_url is pending; a reviewer approves it; we time
 * from the moment the respond call is sent until the signed callback has arrived at the receiver.
 * Baselines measured in the same run: the respond call's own round trip (a durable commit) and a
 * bare loopback POST to the same receiver.
 */
export async function runWebhookBench(
  count = Number(process.env.BENCH_WEBHOOKS ?? 1000),
  burst = Number(process.env.BENCH_WEBHOOK_BURST ?? 1000),
) {
  const dir = mkdtempSync(join(tmpdir(), "countersign-bench-webhooks-"));
  const adminKey = `cs_admin_${randomBytes(32).toString("base64url")}`;
  const cs = await startCountersign(dir, adminKey);
  const arrivals = new Map<string, number>();
  const waiting = new Map<string, () => void>();
  const receiver = await startReceiver({
    handler: (hook) => {
      if (hook.path === "/cb") {
        const id = subjectOf(hook);
        arrivals.set(id, hook.at);
        waiting.get(id)?.();
      }
      return { status: 204 };
    },
  });
  try {
    const key = async (role: string) =>
      String((await http(cs.url, "POST", "/v1/keys", adminKey, { role, name: `bench ${role}` })).json.secret);
    const agentKey = await key("agent");
    const reviewer = await key("reviewer");

    // Baseline: a bare POST round trip to the receiver, same machine, same keep-alive agent.
    const bare: number[] = [];
    for (let i = 0; i < Math.min(count, 1000); i++) {
      const t0 = performance.now();
      await http(receiver.url, "POST", "/bare", undefined, { i });
      bare.push(performance.now() - t0);
    }

    const latencies: number[] = [];
    const respondTimes: number[] = [];
    for (let i = 0; i < count; i++) {
      const created = await http(cs.url, "POST", "/v1/requests", agentKey, {
        question: `webhook ${i}`,
        callback_url: `${receiver.url}/cb`,
      });
      const id = String(created.json.id);
      const arrived = new Promise<void>((resolve) => waiting.set(id, resolve));
      const t0 = performance.now();
      const res = await http(cs.url, "POST", `/v1/requests/${id}/respond`, reviewer, { approved: true });
      respondTimes.push(performance.now() - t0);
      if (res.status !== 200) throw new Error(`respond answered ${res.status}`);
      await arrived;
      waiting.delete(id);
      latencies.push((arrivals.get(id) ?? Number.NaN) - t0);
    }
    const s = summarise(latencies);
    const r = summarise(respondTimes);
    const b = summarise(bare);
    console.log(
      `\nDecision-to-callback latency over ${s.n} decisions (respond sent → signed callback received, SQLite durable)`,
    );
    console.log(
      `p50 ${fmt(s.p50)} ms   p99 ${fmt(s.p99)} ms   mean ${fmt(s.mean)} ms   (target p50 ≤ 50 ms)`,
    );
    console.log(
      `baselines: respond round trip p50 ${fmt(r.p50)} ms (callback/respond ${fmt(s.p50 / r.p50)}×), ` +
        `bare loopback POST p50 ${fmt(b.p50)} ms (callback/bare ${fmt(s.p50 / b.p50)}×)`,
    );

    // Throughput: a burst of decisions, each going to its callback and to a subscribed endpoint.
    const endpoint = await http(cs.url, "POST", "/v1/webhooks", adminKey, {
      url: `${receiver.url}/hook`,
      events: ["request.decided"],
    });
    if (endpoint.status !== 201) throw new Error(`registering the endpoint answered ${endpoint.status}`);
    const ids: string[] = [];
    for (let i = 0; i < burst; i++) {
      const created = await http(cs.url, "POST", "/v1/requests", agentKey, {
        question: `burst ${i}`,
        callback_url: `${receiver.url}/cb`,
      });
      ids.push(String(created.json.id));
    }
    const before = receiver.received.length;
    const expected = before + burst * 2;
    const done = receiver.waitFor((all) => all.length >= expected, 120_000);
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < ids.length) {
          const id = ids[next++] as string;
          await http(cs.url, "POST", `/v1/requests/${id}/respond`, reviewer, { approved: true });
        }
      }),
    );
    const decidedMs = performance.now() - t0;
    await done;
    const deliveredMs = performance.now() - t0;
    const deliveries = receiver.received.length - before;
    console.log(
      `Delivery throughput: ${deliveries} signed deliveries (${burst} decisions × callback + endpoint) in ` +
        `${fmt(deliveredMs, 0)} ms = ${fmt((deliveries / deliveredMs) * 1000, 0)} deliveries/s, while 32 reviewers ` +
        `decided at ${fmt((burst / decidedMs) * 1000, 0)} decisions/s; the last arrived ${fmt(deliveredMs - decidedMs, 0)} ms after the last decision`,
    );
    return { latency: s, respond: r, bare: b, deliveriesPerSecond: (deliveries / deliveredMs) * 1000 };
  } finally {
    await new Promise<void>((resolve) => {
      cs.child.once("exit", () => resolve());
      cs.child.kill("SIGTERM");
    });
    await receiver.close();
    agent.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) await runWebhookBench();
