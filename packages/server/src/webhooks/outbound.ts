import http from "node:http";
import https from "node:https";
import { type OutboundPolicy, OutboundRefusedError } from "./ssrf.ts";

/** What one delivery attempt came to. */
export interface SendResult {
  /**
   * `delivered`: a 2xx in time. `failed`: anything else the receiver or the network did. `refused`:
   * the SSRF guard would not connect. `interrupted`: this process stopped it (shutdown), which does
   * not count as an attempt.
   */
  outcome: "delivered" | "failed" | "refused" | "interrupted";
  statusCode: number | null;
  error: string | null;
  /** The start of the receiver's response body, for the attempt log. */
  response: string | null;
  durationMs: number;
  /** The receiver answered `webhook-delivery: abort-message`: stop retrying this message. */
  abort: boolean;
}

export interface OutboundOptions {
  policy: OutboundPolicy;
  /** A delivery succeeds only with a 2xx within this time (default 15 s). */
  timeoutMs?: number;
  /** How much of a response body is read (and then discarded) before the connection is dropped. */
  maxResponseBytes?: number;
  userAgent?: string;
}

const EXCERPT_CHARS = 512;

/**
 * POSTs signed webhook bodies. node:http with a custom `lookup` that checks every resolved address
 * at connect time; IP literals (which never reach `lookup`) are checked before the request is made.
 * No redirect is ever followed: a 3xx is a failed attempt. Keep-alive sockets are reused only for
 * the origin they were opened (and checked) for.
 */
export class OutboundClient {
  private readonly policy: OutboundPolicy;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly userAgent: string;
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;

  constructor(options: OutboundOptions) {
    this.policy = options.policy;
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.maxResponseBytes = options.maxResponseBytes ?? 64 * 1024;
    this.userAgent = options.userAgent ?? "Countersign-Webhooks/1";
    const agentOptions = { keepAlive: true, maxSockets: 64, maxFreeSockets: 16, timeout: 30_000 };
    this.httpAgent = new http.Agent(agentOptions);
    this.httpsAgent = new https.Agent(agentOptions);
  }

  send(
    target: string,
    headers: Record<string, string>,
    body: string,
    signal?: AbortSignal,
  ): Promise<SendResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    let url: URL;
    try {
      url = this.policy.checkUrl(target);
    } catch (error) {
      return Promise.resolve(refused(error, elapsed()));
    }
    return new Promise<SendResult>((resolve) => {
      let settled = false;
      const finish = (result: SendResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        resolve(result);
      };
      const secure = url.protocol === "https:";
      const payload = Buffer.from(body, "utf8");
      const req = (secure ? https : http).request(url, {
        method: "POST",
        agent: secure ? this.httpsAgent : this.httpAgent,
        lookup: this.policy.lookup,
        headers: {
          ...headers,
          "content-type": "application/json",
          "content-length": String(payload.length),
          "user-agent": this.userAgent,
        },
      });
      const timer = setTimeout(() => {
        req.destroy(new Error(`no response within ${this.timeoutMs / 1000} s`));
      }, this.timeoutMs);
      const onAbort = () => {
        finish({
          outcome: "interrupted",
          statusCode: null,
          error: "interrupted: the server is shutting down",
          response: null,
          durationMs: elapsed(),
          abort: false,
        });
        req.destroy();
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });

      req.on("error", (error) => {
        if (error instanceof OutboundRefusedError) return finish(refused(error, elapsed()));
        finish({
          outcome: "failed",
          statusCode: null,
          error: describeNetworkError(error),
          response: null,
          durationMs: elapsed(),
          abort: false,
        });
      });
      req.on("response", (res) => {
        const status = res.statusCode ?? 0;
        const abort = String(res.headers["webhook-delivery"] ?? "").toLowerCase() === "abort-message";
        const chunks: Buffer[] = [];
        let received = 0;
        const done = () => {
          const text = Buffer.concat(chunks).toString("utf8").slice(0, EXCERPT_CHARS);
          const ok = status >= 200 && status < 300;
          let error: string | null = null;
          if (!ok) {
            error =
              status >= 300 && status < 400
                ? `redirect refused: HTTP ${status}${res.headers.location ? ` to ${res.headers.location}` : ""}`
                : `HTTP ${status}`;
          }
          finish({
            outcome: ok ? "delivered" : "failed",
            statusCode: status,
            error,
            response: text === "" ? null : text,
            durationMs: elapsed(),
            abort: !ok && abort,
          });
        };
        res.on("data", (chunk: Buffer) => {
          if (received < EXCERPT_CHARS * 4) chunks.push(chunk);
          received += chunk.length;
          if (received > this.maxResponseBytes) {
            // Enough: the status is what counts. Drop the connection rather than read on.
            done();
            res.destroy();
          }
        });
        res.on("end", done);
        res.on("error", done);
        res.on("close", done);
      });
      req.end(payload);
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

function refused(error: unknown, durationMs: number): SendResult {
  const message = error instanceof Error ? error.message : String(error);
  return {
    outcome: "refused",
    statusCode: null,
    error: `refused: ${message}`,
    response: null,
    durationMs,
    abort: false,
  };
}

function describeNetworkError(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
}
