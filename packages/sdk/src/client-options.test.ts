import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { CountersignClient } from "./client.ts";
import { SDK_VERSION } from "./client-options.ts";
import { jsonResponse, requestJson } from "./test-fixtures.ts";
import type { FetchLike } from "./transport.ts";

/* Construction: configuration from options or the environment, and refusals of bad configuration. */

const saved = { url: process.env.COUNTERSIGN_URL, key: process.env.COUNTERSIGN_API_KEY };

afterEach(() => {
  restore("COUNTERSIGN_URL", saved.url);
  restore("COUNTERSIGN_API_KEY", saved.key);
});

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

function recording(): { fetch: FetchLike; urls: string[]; auth: string[] } {
  const urls: string[] = [];
  const auth: string[] = [];
  const fetch: FetchLike = async (input, init) => {
    urls.push(input);
    auth.push((init.headers as Record<string, string>).authorization ?? "");
    return jsonResponse(requestJson());
  };
  return { fetch, urls, auth };
}

describe("configuration", () => {
  it("reads COUNTERSIGN_URL and COUNTERSIGN_API_KEY when not given", async () => {
    process.env.COUNTERSIGN_URL = "http://env.example:9000/";
    process.env.COUNTERSIGN_API_KEY = " cs_agent_fromenv\n";
    const { fetch, urls, auth } = recording();
    const client = new CountersignClient({ fetch });
    await client.getRequest("req_01");
    expect(client.baseUrl).toBe("http://env.example:9000");
    expect(urls).toEqual(["http://env.example:9000/v1/requests/req_01"]);
    expect(auth).toEqual(["Bearer cs_agent_fromenv"]);
  });

  it("prefers explicit options over the environment", async () => {
    process.env.COUNTERSIGN_URL = "http://env.example:9000";
    process.env.COUNTERSIGN_API_KEY = "cs_agent_fromenv";
    const { fetch, urls, auth } = recording();
    await new CountersignClient({
      baseUrl: "https://given.example",
      apiKey: "cs_agent_given",
      fetch,
    }).getRequest("req_01");
    expect(urls[0]).toBe("https://given.example/v1/requests/req_01");
    expect(auth[0]).toBe("Bearer cs_agent_given");
  });

  it("says what is missing when neither is set", () => {
    delete process.env.COUNTERSIGN_URL;
    delete process.env.COUNTERSIGN_API_KEY;
    expect(() => new CountersignClient({ apiKey: "k" })).toThrow(/COUNTERSIGN_URL/);
    expect(() => new CountersignClient({ baseUrl: "http://x" })).toThrow(/COUNTERSIGN_API_KEY/);
  });

  it("works where there is no process at all (browsers)", () => {
    const proc = globalThis.process;
    try {
      Object.defineProperty(globalThis, "process", { value: undefined, configurable: true, writable: true });
      expect(() => new CountersignClient()).toThrow(/COUNTERSIGN_URL/);
      expect(new CountersignClient({ baseUrl: "http://x", apiKey: "k" }).baseUrl).toBe("http://x");
    } finally {
      Object.defineProperty(globalThis, "process", { value: proc, configurable: true, writable: true });
    }
  });

  it("treats an environment that throws on access (Deno without --allow-env) as unset", () => {
    const proc = globalThis.process;
    const denied = {
      get env(): never {
        throw new Error("PermissionDenied: Requires env access");
      },
    };
    try {
      Object.defineProperty(globalThis, "process", { value: denied, configurable: true, writable: true });
      expect(() => new CountersignClient()).toThrow(/COUNTERSIGN_URL/);
    } finally {
      Object.defineProperty(globalThis, "process", { value: proc, configurable: true, writable: true });
    }
  });

  it.each([
    ["not a URL", "countersign.example.com", /absolute URL/],
    ["another scheme", "ftp://countersign.example.com", /http or https/],
    ["a query", "https://x.example/?a=1", /query or fragment/],
    ["credentials", "https://user:pw@x.example", /credentials/],
  ])("refuses a baseUrl with %s", (_what, baseUrl, message) => {
    expect(() => new CountersignClient({ baseUrl, apiKey: "k" })).toThrow(message);
  });

  it("refuses a key with whitespace inside and a non-positive timeout", () => {
    expect(() => new CountersignClient({ baseUrl: "http://x", apiKey: "cs_agent_a b" })).toThrow(
      /whitespace/,
    );
    expect(() => new CountersignClient({ baseUrl: "http://x", apiKey: "k", timeoutMs: 0 })).toThrow(
      RangeError,
    );
  });

  it("sends a custom user agent", async () => {
    let agent: string | undefined;
    const fetch: FetchLike = async (_input, init) => {
      agent = (init.headers as Record<string, string>)["user-agent"];
      return jsonResponse(requestJson());
    };
    await new CountersignClient({
      baseUrl: "http://x",
      apiKey: "k",
      fetch,
      userAgent: "my-agent/2",
    }).getRequest("req_01");
    expect(agent).toBe("my-agent/2");
  });

  it("reports the package's own version", () => {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    expect(SDK_VERSION).toBe(pkg.version);
  });
});
