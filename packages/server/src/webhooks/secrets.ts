import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  randomBytes,
} from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { RandomSource } from "@countersign/core";

/**
 * Webhook signing material. The server signs every delivery, so the secrets cannot be stored as
 * hashes the way API keys are: they are stored encrypted with AES-256-GCM under a key that is not
 * in the database when the operator provides one (`COUNTERSIGN_SECRET_KEY`) or when the store is
 * SQLite (a key file beside the database). docs/webhooks.md says what protects what.
 */

export const HMAC_PREFIX = "whsec_";
export const PUBLIC_KEY_PREFIX = "whpk_";

export interface HmacSecret {
  /** `whsec_` + base64 of 32 random bytes (Standard Webhooks' symmetric secret format). */
  secret: string;
  created_at: string;
  /** Set when a rotation retired it: it keeps signing until then. */
  expires_at: string | null;
}

export interface Ed25519Secret {
  /** `whpk_` + base64 of the raw 32-byte public key. */
  public_key: string;
  /** PKCS#8 DER, base64. */
  private_key: string;
  created_at: string;
  expires_at: string | null;
}

/** Newest first. Every entry that has not expired signs each message. */
export interface SigningMaterial {
  hmac: HmacSecret[];
  ed25519: Ed25519Secret[];
}

export type SigningScheme = "hmac" | "ed25519";

export function newHmacSecret(random: RandomSource): string {
  return `${HMAC_PREFIX}${Buffer.from(random.bytes(32)).toString("base64")}`;
}

export function newEd25519Secret(at: string): Ed25519Secret {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const jwk = publicKey.export({ format: "jwk" });
  const raw = Buffer.from(String(jwk.x), "base64url");
  return {
    public_key: `${PUBLIC_KEY_PREFIX}${raw.toString("base64")}`,
    private_key: privateKey.export({ format: "der", type: "pkcs8" }).toString("base64"),
    created_at: at,
    expires_at: null,
  };
}

export function newMaterial(scheme: SigningScheme, random: RandomSource, at: string): SigningMaterial {
  return {
    hmac: [{ secret: newHmacSecret(random), created_at: at, expires_at: null }],
    ed25519: scheme === "ed25519" ? [newEd25519Secret(at)] : [],
  };
}

/**
 * A new current secret (and key pair, for Ed25519 signing); the previous ones keep signing until
 * `graceMs` from now, so receivers can switch without losing a message. Already-expired entries go.
 */
export function rotateMaterial(
  material: SigningMaterial,
  scheme: SigningScheme,
  random: RandomSource,
  nowMs: number,
  graceMs: number,
): SigningMaterial {
  const at = new Date(nowMs).toISOString();
  const retireAt = new Date(nowMs + graceMs).toISOString();
  const retire = <T extends { expires_at: string | null }>(entries: T[]): T[] =>
    graceMs <= 0
      ? []
      : entries
          .filter((e) => e.expires_at === null || Date.parse(e.expires_at) > nowMs)
          .map((e) => ({ ...e, expires_at: e.expires_at ?? retireAt }));
  return {
    hmac: [{ secret: newHmacSecret(random), created_at: at, expires_at: null }, ...retire(material.hmac)],
    ed25519: scheme === "ed25519" ? [newEd25519Secret(at), ...retire(material.ed25519)] : [],
  };
}

/** The entries that still sign at `nowMs`. */
export function liveMaterial(material: SigningMaterial, nowMs: number): SigningMaterial {
  const live = (e: { expires_at: string | null }) =>
    e.expires_at === null || Date.parse(e.expires_at) > nowMs;
  return { hmac: material.hmac.filter(live), ed25519: material.ed25519.filter(live) };
}

/** Keys ready for signing, derived once per material and cached by the caller. */
export interface SigningKeys {
  hmac: Buffer[];
  ed25519: KeyObject[];
  /** The earliest expiry among them: after it the set must be recomputed. */
  validUntilMs: number;
}

export function signingKeys(material: SigningMaterial, nowMs: number): SigningKeys {
  const live = liveMaterial(material, nowMs);
  const expiries = [...live.hmac, ...live.ed25519]
    .map((e) => (e.expires_at ? Date.parse(e.expires_at) : Number.POSITIVE_INFINITY))
    .filter((t) => Number.isFinite(t));
  return {
    hmac: live.hmac.map((h) => Buffer.from(h.secret.slice(HMAC_PREFIX.length), "base64")),
    ed25519: live.ed25519.map((k) =>
      createPrivateKey({ key: Buffer.from(k.private_key, "base64"), format: "der", type: "pkcs8" }),
    ),
    validUntilMs: expiries.length > 0 ? Math.min(...expiries) : Number.POSITIVE_INFINITY,
  };
}

/**
 * AES-256-GCM envelopes: `cs1.<key id>.<iv>.<ciphertext+tag>` (base64url parts). The additional data
 * binds each envelope to the row it belongs to, so secrets cannot be swapped between endpoints.
 */
export class SecretBox {
  private readonly key: Buffer;
  readonly keyId: string;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error("the secret box key must be 32 bytes");
    this.key = key;
    this.keyId = createHash("sha256").update(key).digest("base64url").slice(0, 8);
  }

  /** Derives the key from operator-supplied text (`COUNTERSIGN_SECRET_KEY`), at least 32 characters. */
  static fromPassphrase(text: string): SecretBox {
    if (text.length < 32) {
      throw new Error(
        "COUNTERSIGN_SECRET_KEY must be at least 32 characters (e.g. `openssl rand -base64 32`)",
      );
    }
    const key = Buffer.from(hkdfSync("sha256", text, "countersign", "webhook-secrets", 32));
    return new SecretBox(key);
  }

  /** Reads the key file, creating it (mode 0600) with a fresh random key if it does not exist. */
  static fromKeyFile(path: string): SecretBox {
    if (!existsSync(path)) {
      mkdirSync(dirname(path), { recursive: true });
      try {
        writeFileSync(path, `${randomBytes(32).toString("base64")}\n`, { mode: 0o600, flag: "wx" });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
    }
    const key = Buffer.from(readFileSync(path, "utf8").trim(), "base64");
    if (key.length !== 32) throw new Error(`${path} does not hold a 32-byte base64 key`);
    try {
      chmodSync(path, 0o600);
    } catch {
      // Best effort: a read-only mount keeps whatever mode it has.
    }
    return new SecretBox(key);
  }

  seal(plaintext: string, aad: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    cipher.setAAD(Buffer.from(aad, "utf8"));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
    return ["cs1", this.keyId, iv.toString("base64url"), body.toString("base64url")].join(".");
  }

  open(envelope: string, aad: string): string {
    const [version, keyId, ivText, bodyText] = envelope.split(".");
    if (version !== "cs1" || !keyId || !ivText || !bodyText) throw new Error("not a sealed secret");
    if (keyId !== this.keyId) {
      throw new Error(
        `this secret was sealed with another key (${keyId}, this server has ${this.keyId}): ` +
          "restore the COUNTERSIGN_SECRET_KEY or key file it was created with, or rotate the secret",
      );
    }
    const body = Buffer.from(bodyText, "base64url");
    const decipher = createDecipheriv("aes-256-gcm", this.key, Buffer.from(ivText, "base64url"));
    decipher.setAAD(Buffer.from(aad, "utf8"));
    decipher.setAuthTag(body.subarray(body.length - 16));
    return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString(
      "utf8",
    );
  }

  sealMaterial(material: SigningMaterial, aad: string): string {
    return this.seal(JSON.stringify(material), aad);
  }

  openMaterial(envelope: string, aad: string): SigningMaterial {
    return JSON.parse(this.open(envelope, aad)) as SigningMaterial;
  }
}
