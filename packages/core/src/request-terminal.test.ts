// Tests of ending a request without a response (request-terminal.ts): timing out after the TTL and
// cancelling by the creating agent or an admin.

import { describe, expect, it } from "vitest";
import { ForbiddenError } from "./errors.ts";
import { agent, make, now, r1 } from "./request.testkit.ts";
import { cancelRequest, expireRequest } from "./request-terminal.ts";

describe("request lifecycle", () => {
  it("times out only after the TTL, as timed_out and not rejected", () => {
    const req = make({ question: "?", ttl_seconds: 10 });
    expect(expireRequest(req, now + 9_999)).toBeNull();
    const t = expireRequest(req, now + 10_000);
    expect(t?.request.status).toBe("timed_out");
    expect(t?.request.response).toBeNull();
    expect(t?.audit[0]?.kind).toBe("request.timed_out");
    expect(expireRequest(make({ question: "no ttl" }), now + 1e12)).toBeNull();
  });

  it("lets only the creating agent or an admin cancel", () => {
    const req = make({ question: "?" });
    expect(() => cancelRequest(req, { now, by: { key_id: "key_other", name: "o", role: "agent" } })).toThrow(
      ForbiddenError,
    );
    expect(() => cancelRequest(req, { now, by: r1 })).toThrow(ForbiddenError);
    expect(cancelRequest(req, { now, by: agent, reason: "done" }).request.cancellation?.reason).toBe("done");
  });
});
