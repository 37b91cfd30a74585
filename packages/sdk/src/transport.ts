import { CountersignError, errorFromResponse, invalidResponse } from "./errors.ts";
import { abortReason, backoffDelay, type RetryPolicy, retryAfterMs, sleep } from "./retry.ts";
import { type Parser, ShapeError } from "./validate.ts";

/*
 * One HTTP exchange with the server, and its retries: authentication, a per-attempt timeout,
 * problem+json errors, JSON decoding and response validation. Everything above it deals in typed
 * resources and `CountersignError`s only.
 */

/** The subset of `fetch` the client uses; pass your own to add tracing, proxies or test doubles. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface TransportConfig {
  /** Absolute, without a trailing slash. */
  baseUrl: string;
  apiKey: string;
  fetch: FetchLike;
  timeoutMs: number;
  userAgent: string | undefined;
  retry: RetryPolicy;
}

export type QueryValue = string | number | boolean | undefined;

export interface Call {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  path: string;
  query?: Record<string, QueryValue>;
  body?: unknown;
  /**
   * Whether sending the call twice is harmless. Only such calls are retried: for any other, a lost
   * response leaves it unknown whether the first one took effect.
   */
  idempotent: boolean;
  signal?: AbortSignal | undefined;
  /** This call's per-attempt timeout, instead of the client's. */
  timeoutMs?: number;
  /** `performance.now()` after which no retry is started (the caller has given up by then). */
  deadline?: number;
}

export interface Reply<T> {
  value: T;
  status: number;
  headers: Headers;
}

type Attempt<T> = { ok: true; reply: Reply<T> } | { ok: false; error: CountersignError; retryAfter?: number };

export class Transport {
  readonly config: TransportConfig;

  constructor(config: TransportConfig) {
    this.config = config;
  }

  /**
   * Sends `call`, retrying transient failures of idempotent calls (see retry.ts), and returns the
   * body checked by `parse`. An abort through `call.signal` rejects with the signal's reason.
   */
  async send<T>(call: Call, parse: Parser<T>): Promise<Reply<T>> {
    const { retry } = this.config;
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.attempt(call, parse);
      if (outcome.ok) return outcome.reply;
      const { error } = outcome;
      if (!error.retryable || !call.idempotent || attempt >= retry.maxAttempts) throw error;
      let delay = backoffDelay(attempt, retry);
      if (outcome.retryAfter !== undefined) {
        if (outcome.retryAfter > retry.maxDelayMs) throw error;
        delay = outcome.retryAfter;
      }
      if (call.deadline !== undefined && performance.now() + delay >= call.deadline) throw error;
      await sleep(delay, call.signal);
    }
  }

  private async attempt<T>(call: Call, parse: Parser<T>): Promise<Attempt<T>> {
    const { signal } = call;
    if (signal?.aborted) throw abortReason(signal);
    const timeoutMs = call.timeoutMs ?? this.config.timeoutMs;
    // One controller per attempt, fed by both the caller's signal and the attempt timer, so a
    // timeout can be told apart from the caller giving up (AbortSignal.any needs Node ≥ 20.3).
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal ? abortReason(signal) : undefined);
    signal?.addEventListener("abort", onAbort, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    try {
      let response: Response;
      let text: string;
      try {
        response = await this.config.fetch(this.url(call), this.init(call, controller.signal));
        // Read the body under the same timer: a server that stalls mid-body is as dead as a silent one.
        text = await response.text();
      } catch (cause) {
        if (signal?.aborted) throw abortReason(signal);
        return { ok: false, error: transportFailure(cause, timedOut, timeoutMs) };
      }
      const requestId = response.headers.get("x-request-id") ?? undefined;
      if (!response.ok) {
        const retryAfter = retryAfterMs(response.headers);
        return {
          ok: false,
          error: errorFromResponse(response.status, response.headers, text),
          ...(retryAfter !== undefined ? { retryAfter } : {}),
        };
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw invalidResponse(
          `${call.method} ${call.path} answered ${response.status} with a body that is not JSON`,
          response.status,
          requestId,
        );
      }
      try {
        return {
          ok: true,
          reply: { value: parse(json, "$"), status: response.status, headers: response.headers },
        };
      } catch (error) {
        if (!(error instanceof ShapeError)) throw error;
        throw invalidResponse(
          `${call.method} ${call.path} answered with an unexpected shape: ${error.message}`,
          response.status,
          requestId,
        );
      }
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  private url(call: Call): string {
    let url = this.config.baseUrl + call.path;
    if (call.query) {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(call.query)) {
        if (value !== undefined) params.set(key, String(value));
      }
      const query = params.toString();
      if (query) url += `?${query}`;
    }
    return url;
  }

  private init(call: Call, signal: AbortSignal): RequestInit {
    const headers: Record<string, string> = {
      accept: "application/json, application/problem+json",
      authorization: `Bearer ${this.config.apiKey}`,
    };
    if (this.config.userAgent !== undefined) headers["user-agent"] = this.config.userAgent;
    const init: RequestInit = { method: call.method, headers, signal };
    if (call.body !== undefined) {
      headers["content-type"] = "application/json";
      init.body = JSON.stringify(call.body);
    }
    return init;
  }
}

/** No usable response: the connection failed, or nothing came back within the attempt's timeout. */
function transportFailure(cause: unknown, timedOut: boolean, timeoutMs: number): CountersignError {
  if (timedOut) {
    return new CountersignError({
      status: 0,
      code: "timeout",
      detail: `no response within ${timeoutMs} ms`,
      retryable: true,
      cause,
    });
  }
  const reason = cause instanceof Error ? describeCause(cause) : String(cause);
  return new CountersignError({
    status: 0,
    code: "network_error",
    detail: `the server could not be reached: ${reason}`,
    retryable: true,
    cause,
  });
}

/** Node's fetch says only "fetch failed"; the useful part (ECONNREFUSED, ENOTFOUND, …) is its cause. */
function describeCause(error: Error): string {
  const inner = error.cause;
  if (inner instanceof Error && inner.message) return `${error.message} (${inner.message})`;
  if (typeof inner === "object" && inner !== null && "code" in inner) {
    return `${error.message} (${String((inner as { code: unknown }).code)})`;
  }
  return error.message;
}
