import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import type { LookupFunction } from "node:net";

/**
 * Server-side request forgery protection for every URL Countersign calls out to (webhook endpoints,
 * request callback URLs). A URL must be http(s); every address its host resolves to must be a public
 * unicast address unless the operator allow-listed it. The check runs where the connection is made
 * (a custom `lookup` for node:http), so a name that resolved to a public address at registration and
 * to an internal one later (DNS rebinding) is still refused, and nothing is ever sent to it.
 */
export class OutboundRefusedError extends Error {
  readonly code = "outbound_refused";
  constructor(message: string) {
    super(message);
    this.name = "OutboundRefusedError";
  }
}

interface Cidr {
  bytes: Uint8Array;
  prefix: number;
}

interface Range extends Cidr {
  label: string;
}

/** Resolves a host name to every address it has (tests inject fakes; production uses getaddrinfo). */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    ),
  );

export function parseIPv4(text: string): Uint8Array | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i] ?? "";
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

export function parseIPv6(text: string): Uint8Array | undefined {
  let input = text;
  if (input.startsWith("[") && input.endsWith("]")) input = input.slice(1, -1);
  if (input.includes("%")) return undefined; // zone ids name an interface, never a remote host
  if (!/^[0-9a-fA-F:.]+$/.test(input)) return undefined;
  let tail: Uint8Array | undefined;
  const lastColon = input.lastIndexOf(":");
  if (input.includes(".")) {
    tail = parseIPv4(input.slice(lastColon + 1));
    if (!tail) return undefined;
    input = `${input.slice(0, lastColon + 1)}0:0`;
  }
  const halves = input.split("::");
  if (halves.length > 2) return undefined;
  const parse = (s: string): number[] | undefined => {
    if (s === "") return [];
    const groups = s.split(":");
    const out: number[] = [];
    for (const g of groups) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  const head = parse(halves[0] ?? "");
  const rest = halves.length === 2 ? parse(halves[1] ?? "") : [];
  if (!head || !rest) return undefined;
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...rest];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  if (tail) out.set(tail, 12);
  return out;
}

/** An IP literal as bytes (4 for IPv4, 16 for IPv6), or undefined when the text is not one. */
export function parseIp(text: string): Uint8Array | undefined {
  return parseIPv4(text) ?? parseIPv6(text);
}

export function parseCidr(text: string): Cidr | undefined {
  const [addr, prefixText, extra] = text.split("/");
  if (extra !== undefined || addr === undefined) return undefined;
  const bytes = parseIp(addr);
  if (!bytes) return undefined;
  const max = bytes.length * 8;
  if (prefixText === undefined) return { bytes, prefix: max };
  if (!/^[0-9]{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > max) return undefined;
  return { bytes, prefix };
}

function inCidr(bytes: Uint8Array, cidr: Cidr): boolean {
  if (bytes.length !== cidr.bytes.length) return false;
  let bits = cidr.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((bytes[i] ?? 0) & mask) !== ((cidr.bytes[i] ?? 0) & mask)) return false;
  }
  return true;
}

function range(text: string, label: string): Range {
  const cidr = parseCidr(text);
  if (!cidr) throw new Error(`bad built-in range ${text}`);
  return { ...cidr, label };
}

// Most specific first: the first match names the reason.
const BLOCKED_V4: Range[] = [
  range("169.254.169.254/32", "a cloud metadata address"),
  range("100.100.100.200/32", "a cloud metadata address"),
  range("192.0.0.192/32", "a cloud metadata address"),
  range("0.0.0.0/8", "an unspecified ('this network') address"),
  range("10.0.0.0/8", "a private address"),
  range("100.64.0.0/10", "a private (carrier-grade NAT) address"),
  range("127.0.0.0/8", "a loopback address"),
  range("169.254.0.0/16", "a link-local address"),
  range("172.16.0.0/12", "a private address"),
  range("192.0.0.0/24", "a reserved (IETF protocol) address"),
  range("192.0.2.0/24", "a documentation address"),
  range("192.88.99.0/24", "a reserved (6to4 relay) address"),
  range("192.168.0.0/16", "a private address"),
  range("198.18.0.0/15", "a reserved (benchmarking) address"),
  range("198.51.100.0/24", "a documentation address"),
  range("203.0.113.0/24", "a documentation address"),
  range("224.0.0.0/4", "a multicast address"),
  range("240.0.0.0/4", "a reserved address"),
];

const BLOCKED_V6: Range[] = [
  range("fd00:ec2::254/128", "a cloud metadata address"),
  range("::/128", "an unspecified address"),
  range("::1/128", "a loopback address"),
  range("::/96", "a reserved (IPv4-compatible) address"),
  range("64:ff9b:1::/48", "a private (local NAT64) address"),
  range("100::/64", "a reserved (discard) address"),
  range("2001:db8::/32", "a documentation address"),
  range("2001::/23", "a reserved (IETF protocol, Teredo) address"),
  range("fc00::/7", "a private (unique local) address"),
  range("fe80::/10", "a link-local address"),
  range("fec0::/10", "a private (site-local) address"),
  range("ff00::/8", "a multicast address"),
];

// IPv6 forms that carry an IPv4 address: judged by the address they carry.
const MAPPED = parseCidr("::ffff:0:0/96") as Cidr;
const NAT64 = parseCidr("64:ff9b::/96") as Cidr;
const SIX_TO_FOUR = parseCidr("2002::/16") as Cidr;

function embeddedIPv4(bytes: Uint8Array): Uint8Array | undefined {
  if (bytes.length !== 16) return undefined;
  if (inCidr(bytes, MAPPED) || inCidr(bytes, NAT64)) return bytes.slice(12, 16);
  if (inCidr(bytes, SIX_TO_FOUR)) return bytes.slice(2, 6);
  return undefined;
}

/** Why an address is not a public unicast address, or undefined when it is one. */
export function classifyAddress(bytes: Uint8Array): string | undefined {
  if (bytes.length === 4) return BLOCKED_V4.find((r) => inCidr(bytes, r))?.label;
  const v4 = embeddedIPv4(bytes);
  if (v4) return BLOCKED_V4.find((r) => inCidr(v4, r))?.label;
  return BLOCKED_V6.find((r) => inCidr(bytes, r))?.label;
}

// Names that mean "this machine" or a metadata service whatever DNS says (RFC 6761; cloud docs).
const LOCAL_NAMES = new Set(["localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"]);
const METADATA_NAMES = new Set(["metadata", "metadata.google.internal", "metadata.goog", "instance-data"]);

function normaliseHost(host: string): string {
  let h = host.toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  while (h.endsWith(".")) h = h.slice(0, -1);
  return h;
}

/** Allow-list entries (`COUNTERSIGN_OUTBOUND_ALLOWLIST`, `COUNTERSIGN_CALLBACK_ALLOWLIST`): CIDRs, single addresses, host names, `*.domain`. */
export interface OutboundAllowlist {
  cidrs: Cidr[];
  hosts: Set<string>;
  suffixes: string[];
}

const HOST_NAME =
  /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/** Parses allow-list entries; throws naming the first entry that is neither a CIDR nor a host name. */
export function parseAllowlist(entries: readonly string[]): OutboundAllowlist {
  const list: OutboundAllowlist = { cidrs: [], hosts: new Set(), suffixes: [] };
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry === "") continue;
    const cidr = parseCidr(entry);
    if (cidr) {
      list.cidrs.push(cidr);
      continue;
    }
    const name = normaliseHost(entry);
    if (name.startsWith("*.") && HOST_NAME.test(name.slice(2))) {
      list.suffixes.push(name.slice(1));
    } else if (HOST_NAME.test(name) && !/^[0-9.]+$/.test(name)) {
      list.hosts.add(name);
    } else {
      throw new Error(`outbound allow-list entry ${JSON.stringify(entry)} is neither a CIDR nor a host name`);
    }
  }
  return list;
}

export class OutboundPolicy {
  private readonly allow: OutboundAllowlist;
  private readonly setting: string;
  private readonly resolver: Resolver;
  /** For node:http's `lookup` option: resolves, then refuses the connection if any address is internal. */
  readonly lookup: LookupFunction;

  /** `setting`: the variable that allow-lists targets for this policy, named in refusals. */
  constructor(
    allowlist: readonly string[] = [],
    resolver: Resolver = systemResolver,
    setting = "COUNTERSIGN_OUTBOUND_ALLOWLIST",
  ) {
    this.allow = parseAllowlist(allowlist);
    this.setting = setting;
    this.resolver = resolver;
    this.lookup = (hostname, options, callback) => {
      this.resolveChecked(hostname).then(
        (addresses) => {
          const family = options.family === 4 || options.family === 6 ? options.family : 0;
          const usable = family === 0 ? addresses : addresses.filter((a) => a.family === family);
          const first = usable[0];
          if (!first) {
            const error = Object.assign(new Error(`${hostname} has no IPv${family} address`), {
              code: "ENOTFOUND",
            });
            callback(error, "", 0);
          } else if (options.all) {
            (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, usable);
          } else {
            callback(null, first.address, first.family);
          }
        },
        (error: Error) => callback(error as NodeJS.ErrnoException, "", 0),
      );
    };
  }

  /** True when the operator allow-listed this host name (then any address it resolves to is allowed). */
  hostAllowed(host: string): boolean {
    const name = normaliseHost(host);
    return this.allow.hosts.has(name) || this.allow.suffixes.some((s) => name.endsWith(s));
  }

  /** Why this address may not be reached, or undefined when it may. */
  refusal(address: string): string | undefined {
    const bytes = parseIp(address);
    if (!bytes) return `${address} is not an IP address`;
    if (this.addressAllowed(bytes)) return undefined;
    return classifyAddress(bytes);
  }

  /**
   * The checks that need no DNS: the scheme, and the host when it is an IP literal or a name that
   * always means this machine or a metadata service. Throws `OutboundRefusedError` saying why.
   */
  checkUrl(raw: string): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new OutboundRefusedError("is not a valid URL");
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new OutboundRefusedError(`must use http or https, not ${url.protocol.replace(/:$/, "")}`);
    }
    const host = normaliseHost(url.hostname);
    if (host === "") throw new OutboundRefusedError("has no host");
    if (this.hostAllowed(host)) return url;
    const bytes = parseIp(host);
    if (bytes) {
      const reason = this.addressAllowed(bytes) ? undefined : classifyAddress(bytes);
      if (reason) throw new OutboundRefusedError(this.explain(host, host, reason));
      return url;
    }
    if (
      (LOCAL_NAMES.has(host) || host.endsWith(".localhost")) &&
      this.refusal("127.0.0.1") !== undefined &&
      this.refusal("::1") !== undefined
    ) {
      throw new OutboundRefusedError(this.explain(host, host, "a name for this machine (loopback)"));
    }
    if (METADATA_NAMES.has(host)) {
      throw new OutboundRefusedError(this.explain(host, host, "a cloud metadata service name"));
    }
    return url;
  }

  /** `checkUrl`, then resolves the host and checks every address (for registration). */
  async check(raw: string): Promise<URL> {
    const url = this.checkUrl(raw);
    const host = normaliseHost(url.hostname);
    if (parseIp(host) || this.hostAllowed(host)) return url;
    try {
      await this.resolveChecked(host);
    } catch (error) {
      if (error instanceof OutboundRefusedError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      throw new OutboundRefusedError(`host ${host} could not be resolved${code ? ` (${code})` : ""}`);
    }
    return url;
  }

  /**
   * Resolves a host name and keeps only the addresses that may be reached; refuses (saying why) when
   * none is left. Connections are made to the returned addresses only.
   */
  async resolveChecked(hostname: string): Promise<LookupAddress[]> {
    const host = normaliseHost(hostname);
    const literal = parseIp(host);
    const addresses = literal
      ? [{ address: host, family: literal.length === 4 ? 4 : 6 }]
      : await this.resolver(host);
    if (this.hostAllowed(host)) return addresses;
    const allowed = addresses.filter((a) => this.refusal(a.address) === undefined);
    if (allowed.length > 0) return allowed;
    const first = addresses[0];
    if (!first) throw new OutboundRefusedError(`host ${host} has no address`);
    throw new OutboundRefusedError(this.explain(host, first.address, this.refusal(first.address) ?? ""));
  }

  private addressAllowed(bytes: Uint8Array): boolean {
    const v4 = embeddedIPv4(bytes);
    return this.allow.cidrs.some((c) => inCidr(bytes, c) || (v4 !== undefined && inCidr(v4, c)));
  }

  private explain(target: string, address: string, reason: string): string {
    const what = target === address ? `${target} is` : `${target} resolves to ${address}, which is`;
    return `${what} ${reason}; internal addresses are refused unless allow-listed (${this.setting})`;
  }
}
