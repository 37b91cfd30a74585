import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { CountersignClient } from "./client.ts";
import { CountersignError } from "./errors.ts";
import { ApprovalTimeoutError } from "./outcome-errors.ts";
import { jsonResponse, problemResponse, requestJson } from "./test-fixtures.ts";
import type { FetchLike } from "./transport.ts";

/* Retries, timeouts and malformed answers, driven by a scripted fetch (and one really closed port). */

interface Sent {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
}

/** A fetch that answers from `script` in turn (the last entry repeats) and records what was sent. */
function scripted(...script: Array<() => Response | Promise<Response>>): { fetch: FetchLike; sent: Sent[] } {
  const sent: Sent[] = [];
  const fetch: FetchLike = async (input, init) => {
    sent.push({
      method: init.method ?? "GET",
      url: input,
      headers: init.headers as Record<string, string>,
      body: typeof init.body === "string" ? init.body : undefined,
    });
    const next = script[Math.min(sent.length - 1, script.length - 1)];
    if (!next) throw new Error("empty script");
    return next();
  };
  return { fetch, sent };
}

const FAST_RETRY = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 50 };

function clientWith(
  fetch: FetchLike,
  extra: Partial<ConstructorParameters<typeof CountersignClient>[0]> = {},
) {
  return new CountersignClient({
    baseUrl: "https://countersign.test/base/",
    apiKey: "cs_agent_secret",
    fetch,
    retry: FAST_RETRY,
    ...extra,
  });
}

async function failure(promise: Promise<unknown>): Promise<CountersignError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CountersignError);
  return error as CountersignError;
}

describe("requests on the wire", () => {
  it("sends the key, JSON body and query under the base URL's path", async () => {
    const { fetch, sent } = scripted(
      () => jsonResponse(requestJson(), 201),
      () => jsonResponse({ data: [], next_cursor: null }),
    );
    const client = clientWith(fetch);
    await client.createRequest({ question: "Refund $120?" });
    await client.listRequests({ status: "pending", correlationId: "run 1", limit: 5 });
    expect(sent[0]).toMatchObject({
      method: "POST",
      url: "https://countersign.test/base/v1/requests",
      body: JSON.stringify({ question: "Refund $120?" }),
    });
    expect(sent[0]?.headers.authorization).toBe("Bearer cs_agent_secret");
    expect(sent[0]?.headers["content-type"]).toBe("application/json");
    expect(sent[0]?.headers["user-agent"]).toMatch(/^countersign-sdk-js\//);
    expect(sent[1]?.url).toBe(
      "https://countersign.test/base/v1/requests?status=pending&correlation_id=run+1&limit=5",
    );
    expect(sent[1]?.headers["content-type"]).toBeUndefined();
  });

  it("escapes ids in paths", async () => {
    const { fetch, sent } = scripted(() => jsonResponse(requestJson()));
    await clientWith(fetch).getRequest("../keys?x=1");
    expect(sent[0]?.url).toBe("https://countersign.test/base/v1/requests/..%2Fkeys%3Fx%3D1");
  });

  it("always sends a JSON body when cancelling, as the server refuses an empty one", async () => {
    const { fetch, sent } = scripted(() => jsonResponse(requestJson({ status: "cancelled" })));
    await clientWith(fetch).cancel("req_01");
    expect(sent[0]?.body).toBe("{}");
  });
});

describe("retries", () => {
  it("retries a GET through 503 and 429 until it succeeds", async () => {
    const { fetch, sent } = scripted(
      () => problemResponse(503, "unavailable"),
      () => problemResponse(429, "rate_limited"),
      () => jsonResponse(requestJson()),
    );
    expect((await clientWith(fetch).getRequest("req_01")).id).toBe("req_01");
    expect(sent).toHaveLength(3);
  });

  it("gives up after maxAttempts with the last error", async () => {
    const { fetch, sent } = scripted(() => problemResponse(503, "unavailable"));
    const error = await failure(clientWith(fetch).getRequest("req_01"));
    expect(error.status).toBe(503);
    expect(error.retryable).toBe(true);
    expect(sent).toHaveLength(3);
  });

  it("does not retry what cannot succeed (4xx)", async () => {
    const { fetch, sent } = scripted(() => problemResponse(404, "not_found"));
    expect((await failure(clientWith(fetch).getRequest("req_01"))).code).toBe("not_found");
    expect(sent).toHaveLength(1);
  });

  it("does not resend a POST whose effect is unknown", async () => {
    const { fetch, sent } = scripted(() => problemResponse(503, "unavailable"));
    const client = clientWith(fetch);
    await failure(client.createRequest({ question: "q" }));
    await failure(client.respond("req_01", { approved: true }));
    await failure(client.logAction({ action: "a", summary: "s" }));
    expect(sent).toHaveLength(3);
  });

  it("resends a create that carries an external_request_id, and reports the replay", async () => {
    const { fetch, sent } = scripted(
      () => {
        throw new TypeError("fetch failed");
      },
      () => jsonResponse(requestJson(), 200),
    );
    const result = await clientWith(fetch).createRequest({ question: "q", external_request_id: "ext-1" });
    expect(sent).toHaveLength(2);
    expect(sent[1]?.body).toBe(sent[0]?.body);
    expect(result.replayed).toBe(true);
  });

  it("honours a Retry-After that fits under maxDelayMs", async () => {
    const { fetch, sent } = scripted(
      () => {
        const r = problemResponse(429, "rate_limited");
        r.headers.set("retry-after", "0");
        return r;
      },
      () => jsonResponse(requestJson()),
    );
    await clientWith(fetch).getRequest("req_01");
    expect(sent).toHaveLength(2);
  });

  it("stops at once when Retry-After asks for longer than maxDelayMs", async () => {
    const { fetch, sent } = scripted(() => {
      const r = problemResponse(503, "unavailable");
      r.headers.set("retry-after", "120");
      return r;
    });
    const started = performance.now();
    expect((await failure(clientWith(fetch).getRequest("req_01"))).status).toBe(503);
    expect(sent).toHaveLength(1);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("can be turned off", async () => {
    const { fetch, sent } = scripted(() => problemResponse(503, "unavailable"));
    await failure(clientWith(fetch, { retry: false }).getRequest("req_01"));
    expect(sent).toHaveLength(1);
  });
});

describe("failures without a usable answer", () => {
  it("reports a closed port as a retryable network_error with status 0, after retrying", async () => {
    const port = await closedPort();
    let attempts = 0;
    const fetch: FetchLike = (input, init) => {
      attempts++;
      return globalThis.fetch(input, init);
    };
    const client = new CountersignClient({
      baseUrl: `http://127.0.0.1:${port}`,
      apiKey: "cs_agent_secret",
      fetch,
      retry: FAST_RETRY,
    });
    const error = await failure(client.getRequest("req_01"));
    expect(error.status).toBe(0);
    expect(error.code).toBe("network_error");
    expect(error.retryable).toBe(true);
    expect(error.detail).toMatch(/ECONNREFUSED/);
    expect(error.cause).toBeDefined();
    expect(attempts).toBe(3);
  });

  it("gives up on a silent server after timeoutMs, as a retryable timeout", async () => {
    const hang: FetchLike = (_input, init) =>
      new Promise((_resolve, reject) => {
        init.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
      });
    const client = clientWith(hang, { timeoutMs: 50, retry: false });
    const error = await failure(client.getRequest("req_01"));
    expect(error.code).toBe("timeout");
    expect(error.status).toBe(0);
    expect(error.retryable).toBe(true);
  });

  it("rejects with the caller's reason, not a timeout, when the caller aborts", async () => {
    const hang: FetchLike = (_input, init) =>
      new Promise((_resolve, reject) => {
        init.signal?.addEventListener("abort", () => reject(init.signal?.reason));
      });
    const controller = new AbortController();
    const pending = clientWith(hang).getRequest("req_01", { signal: controller.signal });
    const reason = new Error("user gave up");
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });

  it("refuses a 2xx body that is not JSON as invalid_response, without retrying", async () => {
    const { fetch, sent } = scripted(() => new Response("<html>hello</html>", { status: 200 }));
    const error = await failure(clientWith(fetch).getRequest("req_01"));
    expect(error.code).toBe("invalid_response");
    expect(error.status).toBe(200);
    expect(error.retryable).toBe(false);
    expect(sent).toHaveLength(1);
  });

  it("refuses a resource of the wrong shape as invalid_response naming the field", async () => {
    const { fetch } = scripted(
      () => jsonResponse({ id: 5 }),
      () => jsonResponse(requestJson({ created_at: "last tuesday" })),
    );
    const client = clientWith(fetch);
    expect((await failure(client.getRequest("req_01"))).detail).toMatch(/\$\.id: expected a string/);
    const badDate = await failure(client.getRequest("req_01"));
    expect(badDate.code).toBe("invalid_response");
    expect(badDate.detail).toMatch(/\$\.created_at: expected an RFC 3339 timestamp/);
  });
});

describe("waiting against a misbehaving server", () => {
  it("backs off instead of hot-looping when long-polls return early", async () => {
    const { fetch, sent } = scripted(() => jsonResponse(requestJson()));
    const client = clientWith(fetch, { retry: { baseDelayMs: 100, maxDelayMs: 1000 } });
    const error = await client.waitForDecision("req_01", { timeoutMs: 1000, pollSeconds: 30 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApprovalTimeoutError);
    // Without backoff this would be thousands of calls in the second.
    expect(sent.length).toBeLessThan(25);
  });

  it("retries a failed long-poll and resumes waiting", async () => {
    const { fetch, sent } = scripted(
      () => problemResponse(503, "unavailable"),
      () => jsonResponse(requestJson({ status: "timed_out" })),
    );
    const request = await clientWith(fetch).waitForDecision("req_01");
    expect(request.status).toBe("timed_out");
    expect(sent.map((s) => new URL(s.url).pathname)).toEqual([
      "/base/v1/requests/req_01/wait",
      "/base/v1/requests/req_01/wait",
    ]);
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (typeof address !== "object" || address === null) return reject(new Error("no port"));
      server.close(() => resolve(address.port));
    });
  });
}
