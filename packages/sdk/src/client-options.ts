/*
 * CountersignClient's configuration: the options a caller may pass, their defaults (environment
 * variables included), and their checking and resolution into what the transport and the JWKS cache
 * need. Kept out of client.ts so the class reads as the API it offers.
 */

import { readEnv } from "./env.ts";
import { type RetryOptions, resolveRetryPolicy } from "./retry.ts";
import type { FetchLike, TransportConfig } from "./transport.ts";

export const SDK_VERSION = "0.1.0";

export interface CountersignClientOptions {
  /** The server, e.g. `https://countersign.example.com`. Default: `COUNTERSIGN_URL`. */
  baseUrl?: string;
  /** An API key (`cs_<role>_…`). Default: `COUNTERSIGN_API_KEY`. */
  apiKey?: string;
  /** A `fetch` to use instead of the global one (tracing, proxies, tests). */
  fetch?: FetchLike;
  /** Per-attempt timeout of each HTTP call in ms. Default 30 000. Long-polls get it on top of their hold time. */
  timeoutMs?: number;
  /** Sent as `user-agent`. Default `countersign-sdk-js/<version>`, except in browsers, which set their own. */
  userAgent?: string;
  /** Retries of transient failures (see retry.ts); `false` turns them off. */
  retry?: RetryOptions | false;
  /** How long the server's public keys are reused for offline token checks, in ms. Default 300 000. */
  jwksCacheMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** As long as the server lets the JWKS be cached; a retired key stays published far longer. */
const DEFAULT_JWKS_CACHE_MS = 300_000;

/** Options once checked and defaulted. */
export interface ResolvedClientOptions {
  transport: TransportConfig;
  jwksCacheMs: number;
}

/**
 * Checks `options`, fills in the environment and the defaults, and throws a `TypeError` or
 * `RangeError` saying what is wrong, before any call is made.
 */
export function resolveClientOptions(options: CountersignClientOptions): ResolvedClientOptions {
  const baseUrl = normaliseBaseUrl(options.baseUrl ?? readEnv("COUNTERSIGN_URL"));
  const key = options.apiKey ?? readEnv("COUNTERSIGN_API_KEY");
  if (!key) throw new TypeError("an API key is required: pass apiKey or set COUNTERSIGN_API_KEY");
  if (/\s/.test(key)) throw new TypeError("the API key must not contain whitespace");
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(timeoutMs > 0 && Number.isFinite(timeoutMs))) {
    throw new RangeError("timeoutMs must be a positive number");
  }
  // Resolved at call time, not now, so a fetch polyfilled after construction is still picked up,
  // and called unbound from `globalThis` (browsers throw "Illegal invocation" otherwise).
  const fetchImpl: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  return {
    transport: {
      baseUrl,
      apiKey: key,
      fetch: fetchImpl,
      timeoutMs,
      userAgent: options.userAgent ?? (isBrowser() ? undefined : `countersign-sdk-js/${SDK_VERSION}`),
      retry: resolveRetryPolicy(options.retry),
    },
    jwksCacheMs: options.jwksCacheMs ?? DEFAULT_JWKS_CACHE_MS,
  };
}

/** `https://host[:port][/prefix]` with no trailing slash, or a TypeError saying what is wrong. */
function normaliseBaseUrl(value: string | undefined): string {
  if (!value) throw new TypeError("a server URL is required: pass baseUrl or set COUNTERSIGN_URL");
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`baseUrl ${JSON.stringify(value)} is not an absolute URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(`baseUrl must be http or https, not ${url.protocol}`);
  }
  if (url.search || url.hash) throw new TypeError("baseUrl must not have a query or fragment");
  if (url.username || url.password) {
    throw new TypeError("baseUrl must not carry credentials; pass the API key as apiKey");
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

function isBrowser(): boolean {
  return typeof (globalThis as { document?: unknown }).document !== "undefined";
}
