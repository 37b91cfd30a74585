import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Webhook } from "standardwebhooks";
import { afterAll, describe, expect, it } from "vitest";
import { call } from "../testing/http-client.ts";
import { freePort, type Receiver, startReceiver } from "./testing.ts";

const CLI = fileURLToPath(new URL("../../bin/countersign.js", import.meta.url));

interface Child {
  process: ChildProcess;
  url: string;
  output: () => string;
}

/** `countersign serve` in its own process, configured as an operator would: flags and environment. */
async function serve(dataDir: string, adminKey: string): Promise<Child> {
  const child = spawn(
    process.execPath,
    [
      CLI,
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
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        COUNTERSIGN_BOOTSTRAP_ADMIN_KEY: adminKey,
        COUNTERSIGN_LOG_LEVEL: "warn",
        COUNTERSIGN_SECRET_KEY: "",
        // Retries shortened through configuration: about 30 s of attempts, one a second.
        COUNTERSIGN_WEBHOOK_RETRY_SCHEDULE: `0,0.2,0.3,0.5,${Array(26).fill(1).join(",")}`,
      },
    },
  );
  let output = "";
  child.stderr?.on("data", (c: Buffer) => {
    output += c.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on("data", (c: Buffer) => {
      output += c.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    child.once("exit", (code) =>
      reject(new Error(`server exited with ${code} before listening:\n${output}`)),
    );
  });
  return { process: child, url, output: () => output };
}

function kill(child: Child, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (child.process.exitCode !== null || child.process.signalCode !== null) return resolve();
    child.process.once("exit", () => resolve());
    child.process.kill(signal);
  });
}

describe("webhook delivery survives a crash", () => {
  const dir = mkdtempSync(join(tmpdir(), "countersign-crash-"));
  const children: Child[] = [];
  let receiver: Receiver | undefined;
  afterAll(async () => {
    for (const c of children) await kill(c, "SIGKILL");
    await receiver?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("delivers every decision acknowledged before SIGKILL, once the server is back and the receiver up", async () => {
    const adminKey = `cs_admin_${randomBytes(32).toString("base64url")}`;
    const first = await serve(dir, adminKey);
    children.push(first);
    const key = async (role: string) =>
      (
        await call<{ secret: string }>(first.url, "POST", "/v1/keys", {
          key: adminKey,
          body: { role, name: role },
        })
      ).body.secret;
    const agent = await key("agent");
    const reviewer = await key("reviewer");
    const port = await freePort(); // the receiver is down: nothing listens here yet
    const endpoint = await call<{ secret: string }>(first.url, "POST", "/v1/webhooks", {
      key: adminKey,
      body: { url: `http://127.0.0.1:${port}/hook`, events: ["request.decided"] },
    });
    expect(endpoint.status).toBe(201);

    const n = 25;
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const created = await call<{ id: string }>(first.url, "POST", "/v1/requests", {
        key: agent,
        body: { question: `crash ${i}`, callback_url: `http://127.0.0.1:${port}/cb` },
      });
      expect(created.status).toBe(201);
      ids.push(created.body.id);
    }
    // Every decision is acknowledged (committed) before the kill; some deliveries are mid-attempt.
    const decided = await Promise.all(
      ids.map((id) =>
        call(first.url, "POST", `/v1/requests/${id}/respond`, { key: reviewer, body: { approved: true } }),
      ),
    );
    expect(decided.every((r) => r.status === 200)).toBe(true);
    await kill(first, "SIGKILL");

    const second = await serve(dir, adminKey);
    children.push(second);
    receiver = await startReceiver({ port });
    const bySubject = (path: string) => {
      const map = new Map<string, Set<string>>();
      for (const r of receiver?.received ?? []) {
        if (r.path !== path) continue;
        const id = (JSON.parse(r.body) as { data: { id: string } }).data.id;
        const set = map.get(id) ?? new Set();
        set.add(r.headers["webhook-id"] ?? "");
        map.set(id, set);
      }
      return map;
    };
    // Deliveries that were mid-attempt at the kill wait for their lease to lapse (5 s).
    await receiver.waitFor(() => bySubject("/cb").size === n && bySubject("/hook").size === n, 60_000);

    const signing = await call<{ secret: string }>(second.url, "GET", "/v1/webhooks/callback-signing", {
      key: adminKey,
    });
    for (const id of ids) {
      // At least once, and always under one webhook-id per message, whichever target and attempt.
      const cbIds = bySubject("/cb").get(id);
      const hookIds = bySubject("/hook").get(id);
      expect(cbIds?.size, id).toBe(1);
      expect([...(hookIds ?? [])]).toEqual([...(cbIds ?? [])]);
    }
    // Secrets survived the restart (sealed under the key file in the data directory).
    for (const r of receiver.received) {
      const secret = r.path === "/cb" ? signing.body.secret : endpoint.body.secret;
      expect(new Webhook(secret).verify(r.body, r.headers)).toMatchObject({ type: "request.decided" });
    }
    await kill(second, "SIGTERM");
    expect(second.process.exitCode ?? 0).toBe(0);
  }, 120_000);
});
