import {
  type ApprovalTokenClaims,
  ApprovalTokenVerificationError,
  type VerifyApprovalTokenOptions,
  verifyApprovalToken,
} from "./approval-token.ts";
import type { Jwks } from "./governance-types.ts";
import { abortReason } from "./retry.ts";

/*
 * The server's public keys, fetched once and reused for `maxAgeMs`, so verifying approval tokens
 * offline costs no round trip after the first. Concurrent callers share one fetch. A caller's abort signal ends
 * only that caller's wait, never the shared fetch other callers are waiting on.
 */

/** Fetches the JWKS; bounded by the client's own per-attempt timeout and retries. */
export type JwksLoader = () => Promise<Jwks>;

/** A key not found in a copy at least this old is worth one fresh look (the server may have rotated). */
const MIN_REFRESH_INTERVAL_MS = 10_000;

export class JwksCache {
  private readonly load: JwksLoader;
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  private cached: { jwks: Jwks; at: number } | undefined;
  private inFlight: Promise<Jwks> | undefined;

  constructor(load: JwksLoader, maxAgeMs: number, now: () => number = () => performance.now()) {
    if (!(maxAgeMs >= 0 && Number.isFinite(maxAgeMs))) {
      throw new RangeError("jwksCacheMs must be a non-negative number");
    }
    this.load = load;
    this.maxAgeMs = maxAgeMs;
    this.now = now;
  }

  /** The cached keys while fresh, else freshly fetched ones. `refresh` skips the cache. */
  get(options: { signal?: AbortSignal | undefined; refresh?: boolean } = {}): Promise<Jwks> {
    const { cached } = this;
    if (!options.refresh && cached && this.now() - cached.at < this.maxAgeMs) {
      return Promise.resolve(cached.jwks);
    }
    return untilAborted(this.fetch(), options.signal);
  }

  /**
   * Fresh keys after a token named a key the cached copy lacks, or `undefined` when the copy is
   * too recent for a rotation to be likely: a stream of tokens with made-up key ids then cannot
   * make every verification a round trip.
   */
  async refreshForUnknownKey(signal?: AbortSignal): Promise<Jwks | undefined> {
    const { cached } = this;
    if (cached && this.now() - cached.at < MIN_REFRESH_INTERVAL_MS) return undefined;
    return untilAborted(this.fetch(), signal);
  }

  /**
   * `verifyApprovalToken` with these keys. A token naming a key they lack gets one fresh look
   * (see `refreshForUnknownKey`): it may be signed by a key the server rotated in since.
   */
  async verify(
    token: string,
    call: { tool: string; args: unknown },
    options: VerifyApprovalTokenOptions & { signal?: AbortSignal } = {},
  ): Promise<ApprovalTokenClaims> {
    const { signal, ...verifyOptions } = options;
    const keys = await this.get({ signal });
    try {
      return await verifyApprovalToken(token, call, keys, verifyOptions);
    } catch (error) {
      if (!(error instanceof ApprovalTokenVerificationError) || error.code !== "unknown_key") throw error;
      const fresh = await this.refreshForUnknownKey(signal);
      if (fresh === undefined) throw error;
      return verifyApprovalToken(token, call, fresh, verifyOptions);
    }
  }

  private fetch(): Promise<Jwks> {
    this.inFlight ??= this.load()
      .then((jwks) => {
        this.cached = { jwks, at: this.now() };
        return jwks;
      })
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }
}

/** `promise`, or a rejection with the signal's reason as soon as it aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
