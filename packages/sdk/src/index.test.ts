import { describe, expect, it } from "vitest";
import * as sdk from "./index.ts";

describe("the package entry point", () => {
  it("exports the whole runtime API and nothing internal", () => {
    expect(Object.keys(sdk).sort()).toEqual(
      [
        "ApprovalRejectedError",
        "ApprovalTimeoutError",
        "ApprovalTokenVerificationError",
        "CanonicalizationError",
        "CountersignClient",
        "CountersignError",
        "GovernDeniedError",
        "REQUEST_STATUSES",
        "RequestCancelledError",
        "SDK_VERSION",
        "argsHash",
        "canonicalize",
        "guard",
        "isTerminal",
        "routingOf",
        "verifyApprovalToken",
        "verifyWebhook",
        "WebhookVerificationError",
      ].sort(),
    );
  });

  it("hashes arguments as the server does (RFC 8785 first)", async () => {
    expect(sdk.canonicalize({ b: 1, a: [true, null] })).toBe('{"a":[true,null],"b":1}');
    expect(await sdk.argsHash({ b: 1, a: 2 })).toBe(await sdk.argsHash({ a: 2, b: 1 }));
  });

  it("tells terminal statuses from pending", () => {
    expect(sdk.REQUEST_STATUSES.filter((s) => !sdk.isTerminal(s))).toEqual(["pending"]);
  });
});
