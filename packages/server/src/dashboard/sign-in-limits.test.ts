import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";

describe("sign-in attempts behind a trusted proxy", () => {
  let s: TestServer;
  beforeAll(async () => {
    const previous = process.env.COUNTERSIGN_TRUST_PROXY;
    process.env.COUNTERSIGN_TRUST_PROXY = "1";
    try {
      s = await startTestServer();
    } finally {
      if (previous === undefined) delete process.env.COUNTERSIGN_TRUST_PROXY;
      else process.env.COUNTERSIGN_TRUST_PROXY = previous;
    }
  });
  afterAll(() => s.close());

  const attempt = (address: string, i: number) =>
    call(s.url, "POST", "/v1/sessions", {
      body: { email: `stranger${i}@example.com`, password: "whatever it is" },
      headers: { "x-forwarded-for": address },
    });

  it("counts every address of one IPv6 /64 together, and other prefixes apart", async () => {
    for (let i = 1; i <= 30; i++)
      expect((await attempt(`2001:db8:7:1::${i.toString(16)}`, i)).status).toBe(401);
    // A fresh address in the same /64 is refused; one in the next /64 is not.
    expect((await attempt("2001:db8:7:1:ffff:ffff:ffff:fffe", 31)).status).toBe(429);
    expect((await attempt("2001:db8:7:2::1", 32)).status).toBe(401);
  });

  it("counts an IPv4-mapped IPv6 address as its IPv4 address", async () => {
    for (let i = 1; i <= 30; i++) expect((await attempt("198.51.100.20", 100 + i)).status).toBe(401);
    expect((await attempt("::ffff:198.51.100.20", 131)).status).toBe(429);
  });
});
