import { describe, expect, it } from "vitest";
import { CountersignError, errorFromResponse } from "./errors.ts";

const headers = (values: Record<string, string> = {}) => new Headers(values);

describe("errorFromResponse", () => {
  it("builds the error from a problem document", () => {
    const body = {
      type: "urn:countersign:problem:invalid_request",
      title: "Bad Request",
      status: 400,
      detail: "/ttl_seconds: must be >= 1",
      code: "invalid_request",
      retryable: false,
      errors: [{ path: "/ttl_seconds", message: "must be >= 1" }],
      request_id: "req-abc",
    };
    const error = errorFromResponse(400, headers(), JSON.stringify(body));
    expect(error).toBeInstanceOf(CountersignError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("CountersignError");
    expect(error.status).toBe(400);
    expect(error.code).toBe("invalid_request");
    expect(error.detail).toBe("/ttl_seconds: must be >= 1");
    expect(error.retryable).toBe(false);
    expect(error.errors).toEqual([{ path: "/ttl_seconds", message: "must be >= 1" }]);
    expect(error.requestId).toBe("req-abc");
    expect(error.problem).toEqual(body);
    expect(error.message).toBe("400 invalid_request: /ttl_seconds: must be >= 1");
  });

  it("trusts the server's retryable flag", () => {
    const body = JSON.stringify({ code: "unavailable", detail: "database busy", retryable: true });
    expect(errorFromResponse(503, headers(), body).retryable).toBe(true);
    const notRetryable = JSON.stringify({ code: "internal_error", detail: "bug", retryable: false });
    expect(errorFromResponse(500, headers(), notRetryable).retryable).toBe(false);
  });

  it("falls back to the status when the problem has no retryable flag", () => {
    expect(
      errorFromResponse(429, headers(), JSON.stringify({ code: "rate_limited", detail: "slow down" }))
        .retryable,
    ).toBe(true);
    expect(
      errorFromResponse(404, headers(), JSON.stringify({ code: "not_found", detail: "no" })).retryable,
    ).toBe(false);
  });

  it("believes the status line over a status in the body", () => {
    const body = JSON.stringify({ status: 200, code: "conflict", detail: "x" });
    expect(errorFromResponse(409, headers(), body).status).toBe(409);
    expect(errorFromResponse(409, headers(), body).problem?.status).toBe(409);
  });

  it("types a non-problem body from a proxy as http_error, retryable for 5xx", () => {
    const error = errorFromResponse(
      502,
      headers({ "x-request-id": "proxy-1" }),
      "<html><body>Bad Gateway</body></html>",
    );
    expect(error.code).toBe("http_error");
    expect(error.status).toBe(502);
    expect(error.retryable).toBe(true);
    expect(error.detail).toContain("Bad Gateway");
    expect(error.requestId).toBe("proxy-1");
    expect(error.problem).toBeUndefined();
    expect(error.errors).toEqual([]);

    expect(errorFromResponse(404, headers(), "").retryable).toBe(false);
    expect(errorFromResponse(404, headers(), "").detail).toBe("HTTP 404");
  });

  it("keeps only well-formed field errors", () => {
    const body = JSON.stringify({
      code: "invalid_request",
      detail: "bad",
      errors: [{ path: "/a", message: "m" }, { path: 1 }, "junk", null],
    });
    expect(errorFromResponse(400, headers(), body).errors).toEqual([{ path: "/a", message: "m" }]);
  });
});
