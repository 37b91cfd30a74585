import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { ValidationError } from "../errors.ts";
import { decodeBase64url } from "./base64url.ts";
import { SigningKeyError } from "./errors.ts";

/** An Ed25519 public key as an RFC 8037 OKP JSON Web Key. */
export interface Ed25519PublicJwk {
  kty: "OKP";
  crv: "Ed25519";
  /** The 32-byte public key, base64url. */
  x: string;
}

/** An Ed25519 private key as an RFC 8037 OKP JSON Web Key; `d` is the secret seed. */
export interface Ed25519PrivateJwk extends Ed25519PublicJwk {
  d: string;
}

/**
 * One signing key as stored by the server. Plain JSON so any storage adapter can keep it; the
 * private half never leaves the server, the public half is published in the JWKS.
 */
export interface SigningKeyRecord {
  kid: string;
  private_jwk: Ed25519PrivateJwk;
  public_jwk: Ed25519PublicJwk;
  /** RFC 3339. */
  created_at: string;
  /** RFC 3339 once the key stops signing; it is still published until its last token expires. */
  retired_at: string | null;
}

/**
 * What is known of a key without its private half: enough to publish it and to know whether it
 * still signs. A retired key is only ever needed in this form.
 */
export type PublishedSigningKey = Omit<SigningKeyRecord, "private_jwk">;

/**
 * A fresh Ed25519 signing key.
 *
 * The one place in core that draws randomness: node:crypto's key generation uses the operating
 * system's CSPRNG, and a signing key must not come from an injectable (and so possibly weak or
 * predictable) source. Time is still passed in, so the record is reproducible apart from the key.
 */
export function generateSigningKey(kid: string, createdAt: string): SigningKeyRecord {
  if (kid.length === 0)
    throw new ValidationError("kid must be a non-empty string", [{ path: "kid", message: "empty" }]);
  if (Number.isNaN(Date.parse(createdAt))) {
    throw new ValidationError("created_at must be an RFC 3339 timestamp", [
      { path: "created_at", message: "not a timestamp" },
    ]);
  }
  const { privateKey } = generateKeyPairSync("ed25519");
  const jwk = privateKey.export({ format: "jwk" });
  if (typeof jwk.x !== "string" || typeof jwk.d !== "string") {
    throw new SigningKeyError("the runtime exported an Ed25519 key without x or d");
  }
  return {
    kid,
    private_jwk: { kty: "OKP", crv: "Ed25519", x: jwk.x, d: jwk.d },
    public_jwk: { kty: "OKP", crv: "Ed25519", x: jwk.x },
    created_at: createdAt,
    retired_at: null,
  };
}

/**
 * Checks a record loaded from storage before it signs anything: a damaged record would otherwise
 * issue tokens that no published key verifies, and agents would learn of it only at run time.
 */
export function parseSigningKeyRecord(value: unknown): SigningKeyRecord {
  const { record, label, ...head } = parseRecordHead(value);
  const priv = record.private_jwk as Partial<Ed25519PrivateJwk> | undefined;
  const pub = record.public_jwk as Partial<Ed25519PublicJwk> | undefined;
  const seed = priv?.d;
  if (!isOkpEd25519(priv) || !isKeyBytes(seed) || !isOkpEd25519(pub)) {
    throw new SigningKeyError(`${label}: keys are not Ed25519 OKP JWKs`);
  }
  const parsed: SigningKeyRecord = {
    kid: head.kid,
    private_jwk: { kty: "OKP", crv: "Ed25519", x: priv.x, d: seed },
    public_jwk: { kty: "OKP", crv: "Ed25519", x: pub.x },
    created_at: head.created_at,
    retired_at: head.retired_at,
  };
  privateKeyOf(parsed);
  return parsed;
}

/**
 * The public parts of a stored record, checked, without reading (or needing) its private half:
 * a retired key is loaded this way, so one whose private half can no longer be opened (the key
 * that sealed it was lost) does not stop the keyring from loading.
 */
export function parsePublishedSigningKey(value: unknown): PublishedSigningKey {
  const { record, label, ...head } = parseRecordHead(value);
  const pub = record.public_jwk as Partial<Ed25519PublicJwk> | undefined;
  if (!isOkpEd25519(pub)) throw new SigningKeyError(`${label}: public key is not an Ed25519 OKP JWK`);
  return { ...head, public_jwk: { kty: "OKP", crv: "Ed25519", x: pub.x } };
}

/** The checks both parsers share: an object with a kid, a creation time and a retirement (or null). */
function parseRecordHead(value: unknown) {
  if (typeof value !== "object" || value === null)
    throw new SigningKeyError("signing key record is not an object");
  const record = value as Partial<Record<keyof SigningKeyRecord, unknown>>;
  if (typeof record.kid !== "string" || record.kid.length === 0) {
    throw new SigningKeyError("signing key record has no kid");
  }
  const label = `signing key ${record.kid}`;
  if (typeof record.created_at !== "string" || Number.isNaN(Date.parse(record.created_at))) {
    throw new SigningKeyError(`${label}: created_at is not a timestamp`);
  }
  if (
    record.retired_at !== null &&
    (typeof record.retired_at !== "string" || Number.isNaN(Date.parse(record.retired_at)))
  ) {
    throw new SigningKeyError(`${label}: retired_at is neither null nor a timestamp`);
  }
  return {
    record,
    label,
    kid: record.kid,
    created_at: record.created_at,
    retired_at: record.retired_at as string | null,
  };
}

const privateKeys = new WeakMap<SigningKeyRecord, KeyObject>();

/**
 * The node:crypto key for a record, checked once: the private key must derive the published public
 * key, or tokens would be signed by a key nobody can verify against.
 */
export function privateKeyOf(record: SigningKeyRecord): KeyObject {
  const cached = privateKeys.get(record);
  if (cached !== undefined) return cached;
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: { ...record.private_jwk }, format: "jwk" });
  } catch (cause) {
    throw new SigningKeyError(`signing key ${record.kid}: private JWK cannot be imported (${String(cause)})`);
  }
  const derived = createPublicKey(key).export({ format: "jwk" });
  if (derived.x !== record.public_jwk.x || record.private_jwk.x !== record.public_jwk.x) {
    throw new SigningKeyError(`signing key ${record.kid}: private key does not match its public key`);
  }
  privateKeys.set(record, key);
  return key;
}

function isOkpEd25519(jwk: Partial<Ed25519PublicJwk> | undefined): jwk is Ed25519PublicJwk {
  return (
    typeof jwk === "object" && jwk !== null && jwk.kty === "OKP" && jwk.crv === "Ed25519" && isKeyBytes(jwk.x)
  );
}

/** Ed25519 public keys and seeds are both exactly 32 bytes. */
export function isKeyBytes(value: unknown): value is string {
  return typeof value === "string" && decodeBase64url(value)?.length === 32;
}
