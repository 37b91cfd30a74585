import type { Clock, RandomSource } from "./clock.ts";

/** Crockford's base32, as ULID uses: no I, L, O, U, so ids are unambiguous when read aloud. */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export type IdPrefix =
  | "req"
  | "rev"
  | "act"
  | "key"
  | "aud"
  | "gov"
  | "grt"
  | "whk"
  | "dlv"
  | "rvw"
  | "evt"
  | "ks"
  | "tok"
  | "sig"
  | "usr"
  | "inv"
  | "ses";

/**
 * Prefixed, time-sortable ids (`req_01J…`): 48 bits of milliseconds then 80 random bits, encoded
 * like a ULID. Ids created within one millisecond by one generator stay ordered (the random part is
 * incremented), so list order equals creation order. Written here rather than taken from a package
 * because the domain must draw time and randomness from injected sources.
 */
export class IdGenerator {
  private lastTime = -1;
  private lastRandom: number[] = [];

  private readonly clock: Clock;
  private readonly random: RandomSource;

  constructor(clock: Clock, random: RandomSource) {
    this.clock = clock;
    this.random = random;
  }

  next(prefix: IdPrefix): string {
    const time = this.clock.now();
    let rnd: number[];
    if (time <= this.lastTime && this.lastRandom.length === 16) {
      rnd = increment(this.lastRandom);
    } else {
      const bytes = this.random.bytes(10);
      rnd = toBase32Digits(bytes);
      this.lastTime = time;
    }
    this.lastRandom = rnd;
    return `${prefix}_${encodeTime(Math.max(time, this.lastTime))}${rnd.map((d) => ALPHABET[d]).join("")}`;
  }
}

function encodeTime(ms: number): string {
  let out = "";
  let value = ms;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[value % 32] + out;
    value = Math.floor(value / 32);
  }
  return out;
}

/** 80 bits as sixteen 5-bit digits, most significant first. */
function toBase32Digits(bytes: Uint8Array): number[] {
  let bits = 0n;
  for (const b of bytes) bits = (bits << 8n) | BigInt(b);
  const digits: number[] = [];
  for (let i = 15; i >= 0; i--) digits.push(Number((bits >> BigInt(i * 5)) & 31n));
  return digits;
}

function increment(digits: number[]): number[] {
  const out = digits.slice();
  for (let i = out.length - 1; i >= 0; i--) {
    const d = out[i] ?? 0;
    if (d < 31) {
      out[i] = d + 1;
      return out;
    }
    out[i] = 0;
  }
  return out;
}
