import type { LookupAddress } from "node:dns";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OutboundClient } from "./outbound.ts";
import {
  classifyAddress,
  OutboundPolicy,
  OutboundRefusedError,
  parseAllowlist,
  parseIPv6,
  parseIp,
  type Resolver,
} from "./ssrf.ts";
import { type Receiver, startReceiver } from "./testing.ts";

// Nothing here ever connects anywhere but 127.0.0.1: internal addresses are refused before any socket
// is opened, and "public" addresses only ever appear in resolver answers that are checked, not used.

const bytes = (ip: string) => {
  const b = parseIp(ip);
  if (!b) throw new Error(`not an IP: ${ip}`);
  return b;
};

/** A resolver answering from a table, counting the look-ups (so a test sees when a check happened). */
function fakeResolver(answers: Record<string, string[] | (() => string[])>) {
  const calls: string[] = [];
  const resolver: Resolver = async (host) => {
    calls.push(host);
    const entry = answers[host];
    const list = typeof entry === "function" ? entry() : entry;
    if (!list) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
    return list.map((address): LookupAddress => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  return { resolver, calls };
}

describe("address parsing", () => {
  it("parses IPv4 and IPv6 literals, including embedded IPv4 and brackets", () => {
    expect([...bytes("192.168.1.2")]).toEqual([192, 168, 1, 2]);
    expect(parseIPv6("::1")?.at(15)).toBe(1);
    expect([...(parseIPv6("[::ffff:127.0.0.1]") ?? [])].slice(10)).toEqual([0xff, 0xff, 127, 0, 0, 1]);
    expect([...(parseIPv6("2001:db8::8:800:200c:417a") ?? [])].slice(0, 4)).toEqual([0x20, 0x01, 0x0d, 0xb8]);
    expect(parseIPv6("1:2:3:4:5:6:7:8")).toBeDefined();
  });

  it("rejects malformed literals", () => {
    for (const bad of [
      "1.2.3",
      "01.2.3.4",
      "256.1.1.1",
      "1.2.3.4.5",
      "1::2::3",
      "1:2:3:4:5:6:7:8:9",
      "fe80::1%eth0",
      "host",
    ]) {
      expect(parseIp(bad), bad).toBeUndefined();
    }
  });
});

describe("classifyAddress", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.0.9", "loopback"],
    ["10.0.0.1", "private"],
    ["172.16.5.5", "private"],
    ["172.31.255.255", "private"],
    ["192.168.100.1", "private"],
    ["100.64.0.1", "carrier-grade NAT"],
    ["169.254.169.254", "metadata"],
    ["100.100.100.200", "metadata"],
    ["169.254.10.10", "link-local"],
    ["0.0.0.0", "unspecified"],
    ["224.0.0.251", "multicast"],
    ["239.255.255.250", "multicast"],
    ["255.255.255.255", "reserved"],
    ["198.18.0.1", "benchmarking"],
    ["::1", "loopback"],
    ["::", "unspecified"],
    ["fe80::1", "link-local"],
    ["fc00::1", "unique local"],
    ["fd00:ec2::254", "metadata"],
    ["ff02::1", "multicast"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:169.254.169.254", "metadata"],
    ["64:ff9b::10.0.0.1", "private"],
    ["2002:c0a8:0101::1", "private"],
    ["2001::1", "Teredo"],
  ])("%s is %s", (ip, label) => {
    expect(classifyAddress(bytes(ip))).toContain(label);
  });

  it.each([
    "8.8.8.8",
    "1.1.1.1",
    "172.32.0.1",
    "100.128.0.1",
    "2606:4700:4700::1111",
    "::ffff:8.8.8.8",
    "2002:0808:0808::1",
  ])("%s is public", (ip) => {
    expect(classifyAddress(bytes(ip))).toBeUndefined();
  });
});

describe("allow-list", () => {
  it("takes CIDRs, single addresses, host names and *.suffixes", () => {
    const list = parseAllowlist([
      "10.0.0.0/8",
      " 127.0.0.1 ",
      "::1/128",
      "hooks.internal",
      "*.corp.example",
      "",
    ]);
    expect(list.cidrs).toHaveLength(3);
    expect([...list.hosts]).toEqual(["hooks.internal"]);
    expect(list.suffixes).toEqual([".corp.example"]);
  });

  it.each(["10.0.0.0/33", "10.0.0/8", "not a host!", "*.", "http://x.example", "1.2.3.4/8/9"])(
    "refuses %s",
    (entry) => {
      expect(() => parseAllowlist([entry])).toThrow(/neither a CIDR nor a host name/);
    },
  );

  it("lets allow-listed CIDRs and hosts through, and nothing else", () => {
    const policy = new OutboundPolicy(["10.1.0.0/16", "hooks.internal", "*.corp.example"]);
    expect(policy.refusal("10.1.2.3")).toBeUndefined();
    expect(policy.refusal("::ffff:10.1.2.3")).toBeUndefined();
    expect(policy.refusal("10.2.0.1")).toContain("private");
    expect(policy.hostAllowed("HOOKS.internal.")).toBe(true);
    expect(policy.hostAllowed("a.b.corp.example")).toBe(true);
    expect(policy.hostAllowed("corp.example")).toBe(false);
    expect(policy.hostAllowed("evilcorp.example")).toBe(false);
  });
});

describe("OutboundPolicy.checkUrl (no DNS)", () => {
  const policy = new OutboundPolicy([]);

  it.each([
    ["ftp://example.org/x", /must use http or https/],
    ["file:///etc/passwd", /must use http or https/],
    ["gopher://example.org/", /must use http or https/],
    ["not a url", /not a valid URL/],
    ["http://127.0.0.1:8080/", /127\.0\.0\.1 is a loopback address/],
    ["http://2130706433/", /127\.0\.0\.1 is a loopback/], // decimal form, normalised by the URL parser
    ["http://0x7f.1/", /127\.0\.0\.1 is a loopback/],
    ["http://[::ffff:a9fe:a9fe]/", /metadata/],
    ["http://0.0.0.0:80/", /unspecified/],
    ["http://localhost:3000/", /loopback/],
    ["http://LOCALHOST./", /loopback/],
    ["http://foo.localhost/", /loopback/],
    ["http://metadata.google.internal/", /metadata/],
  ])("refuses %s", (url, reason) => {
    expect(() => policy.checkUrl(url)).toThrow(OutboundRefusedError);
    expect(() => policy.checkUrl(url)).toThrow(reason);
  });

  it("accepts public literals and names (names are checked when resolved)", () => {
    expect(policy.checkUrl("https://8.8.8.8/hook").hostname).toBe("8.8.8.8");
    expect(policy.checkUrl("https://hooks.example.com/x?y=1").hostname).toBe("hooks.example.com");
  });

  it("accepts loopback names once loopback is allow-listed", () => {
    expect(new OutboundPolicy(["127.0.0.0/8"]).checkUrl("http://localhost:1/").port).toBe("1");
  });
});

describe("OutboundPolicy resolution", () => {
  it("refuses a name that resolves to an internal address, saying which", async () => {
    const { resolver } = fakeResolver({ "internal.example": ["10.9.8.7"] });
    const policy = new OutboundPolicy([], resolver);
    await expect(policy.check("https://internal.example/hook")).rejects.toThrow(
      "internal.example resolves to 10.9.8.7, which is a private address",
    );
  });

  it("connects only to the addresses that may be reached", async () => {
    const { resolver } = fakeResolver({ "mixed.example": ["10.0.0.1", "8.8.4.4", "::1"] });
    const policy = new OutboundPolicy([], resolver);
    expect((await policy.resolveChecked("mixed.example")).map((a) => a.address)).toEqual(["8.8.4.4"]);
  });

  it("refuses names that do not resolve at registration", async () => {
    const { resolver } = fakeResolver({});
    await expect(new OutboundPolicy([], resolver).check("https://nowhere.example/")).rejects.toThrow(
      /could not be resolved \(ENOTFOUND\)/,
    );
  });

  it("answers node's lookup in both its forms, and fails it for internal addresses", async () => {
    const { resolver } = fakeResolver({
      "pub.example": ["8.8.8.8", "2001:4860:4860::8888"],
      "priv.example": ["192.168.1.1"],
    });
    const policy = new OutboundPolicy([], resolver);
    const lookup = (host: string, options: { all?: boolean; family?: number }) =>
      new Promise<unknown>((resolve, reject) =>
        policy.lookup(host, options as never, (error: unknown, address: unknown, family?: unknown) =>
          error ? reject(error) : resolve(options.all ? address : [address, family]),
        ),
      );
    expect(await lookup("pub.example", { all: true })).toHaveLength(2);
    expect(await lookup("pub.example", {})).toEqual(["8.8.8.8", 4]);
    expect(await lookup("pub.example", { family: 6 })).toEqual(["2001:4860:4860::8888", 6]);
    await expect(lookup("priv.example", { all: true })).rejects.toBeInstanceOf(OutboundRefusedError);
  });
});

describe("OutboundClient", () => {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(() => receiver.close());

  it("checks the address at connect time: DNS rebinding after registration is refused", async () => {
    let answer = "203.0.114.7"; // what registration saw (a public address; never connected to)
    const { resolver, calls } = fakeResolver({ "rebind.example": () => [answer] });
    const policy = new OutboundPolicy([], resolver);
    await expect(policy.check(`http://rebind.example:${receiver.port}/hook`)).resolves.toBeTruthy();
    answer = "10.0.0.7"; // the attacker's DNS now points inside
    const client = new OutboundClient({ policy });
    const seen = receiver.received.length;
    const result = await client.send(`http://rebind.example:${receiver.port}/hook`, {}, "{}");
    client.close();
    expect(result.outcome).toBe("refused");
    expect(result.error).toMatch(
      /refused: rebind\.example resolves to 10\.0\.0\.7, which is a private address/,
    );
    expect(calls).toEqual(["rebind.example", "rebind.example"]);
    expect(receiver.received.length).toBe(seen);
  });

  it("refuses internal IP literals without a look-up", async () => {
    const { resolver, calls } = fakeResolver({});
    const client = new OutboundClient({ policy: new OutboundPolicy([], resolver) });
    const result = await client.send("http://169.254.169.254/latest/meta-data/", {}, "{}");
    client.close();
    expect(result).toMatchObject({ outcome: "refused", statusCode: null });
    expect(result.error).toMatch(/cloud metadata/);
    expect(calls).toEqual([]);
  });

  it("delivers to an allow-listed host, and to a name whose allowed address it keeps", async () => {
    const { resolver } = fakeResolver({ "hooks.internal": ["127.0.0.1"], "both.test": ["::1", "127.0.0.1"] });
    const byHost = new OutboundClient({ policy: new OutboundPolicy(["hooks.internal"], resolver) });
    const byCidr = new OutboundClient({ policy: new OutboundPolicy(["127.0.0.1/32"], resolver) });
    expect((await byHost.send(`http://hooks.internal:${receiver.port}/a`, {}, "{}")).outcome).toBe(
      "delivered",
    );
    expect((await byCidr.send(`http://both.test:${receiver.port}/b`, {}, "{}")).outcome).toBe("delivered");
    byHost.close();
    byCidr.close();
  });

  it("fails an attempt that gets no answer in time", async () => {
    receiver.setHandler(async () => {
      await new Promise((r) => setTimeout(r, 500));
      return { status: 200 };
    });
    const client = new OutboundClient({ policy: new OutboundPolicy(["127.0.0.1/32"]), timeoutMs: 100 });
    const result = await client.send(`${receiver.url}/slow`, {}, "{}");
    client.close();
    receiver.setHandler(() => ({ status: 204 }));
    expect(result).toMatchObject({ outcome: "failed", statusCode: null, error: "no response within 0.1 s" });
  });

  it("reads only the start of a large answer", async () => {
    receiver.setHandler(() => ({ status: 200, body: "x".repeat(2_000_000) }));
    const client = new OutboundClient({ policy: new OutboundPolicy(["127.0.0.1/32"]) });
    const result = await client.send(`${receiver.url}/big`, {}, "{}");
    client.close();
    receiver.setHandler(() => ({ status: 204 }));
    expect(result.outcome).toBe("delivered");
    expect(result.response?.length).toBe(512);
  });

  it("reports connection failures", async () => {
    const { freePort } = await import("./testing.ts");
    const port = await freePort();
    const client = new OutboundClient({ policy: new OutboundPolicy(["127.0.0.1/32"]) });
    const result = await client.send(`http://127.0.0.1:${port}/down`, {}, "{}");
    client.close();
    expect(result.outcome).toBe("failed");
    expect(result.error).toMatch(/ECONNREFUSED/);
  });
});
