import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One webhook as a test receiver got it. */
export interface ReceivedWebhook {
  path: string;
  headers: Record<string, string>;
  body: string;
  /** performance.now() when the body had arrived. */
  at: number;
}

export interface ReceiverReply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export type ReceiverHandler = (
  hook: ReceivedWebhook,
  index: number,
) => ReceiverReply | Promise<ReceiverReply>;

export interface Receiver {
  url: string;
  port: number;
  /** Every request received, in arrival order (whatever it was answered). */
  received: ReceivedWebhook[];
  setHandler(handler: ReceiverHandler): void;
  /** Resolves once `predicate` holds over `received` (checked on every arrival), or rejects after `timeoutMs`. */
  waitFor(predicate: (received: ReceivedWebhook[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A local HTTP receiver on the loopback interface for webhook tests and benchmarks. Answers 204 by
 * default; `setHandler` changes that (failures, redirects, abort-message, slowness).
 */
export async function startReceiver(
  options: { port?: number; handler?: ReceiverHandler } = {},
): Promise<Receiver> {
  const received: ReceivedWebhook[] = [];
  let handler: ReceiverHandler = options.handler ?? (() => ({ status: 204 }));
  const waiters = new Set<() => void>();
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
      }
      const hook: ReceivedWebhook = {
        path: req.url ?? "/",
        headers,
        body: Buffer.concat(chunks).toString("utf8"),
        at: performance.now(),
      };
      received.push(hook);
      for (const wake of [...waiters]) wake();
      Promise.resolve(handler(hook, received.length - 1))
        .then((reply) => {
          res.writeHead(reply.status, reply.headers ?? {});
          res.end(reply.body ?? "");
        })
        .catch(() => {
          res.writeHead(500);
          res.end();
        });
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    setHandler(next) {
      handler = next;
    },
    waitFor(predicate, timeoutMs = 10_000) {
      return new Promise<void>((resolve, reject) => {
        if (predicate(received)) return resolve();
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(`receiver: condition not met within ${timeoutMs} ms (${received.length} received)`),
          );
        }, timeoutMs);
        function check() {
          if (!predicate(received)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        }
        waiters.add(check);
      });
    },
    close() {
      return new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}

/** A loopback port nothing listens on (yet): a receiver that is down. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
