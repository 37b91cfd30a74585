import { APPROVAL_TOKEN_ALG } from "./claims.ts";
import { type Ed25519PublicJwk, isKeyBytes, type PublishedSigningKey } from "./signing-key.ts";

/** A public key as published at `/.well-known/jwks.json`. */
export interface PublishedJwk extends Ed25519PublicJwk {
  kid: string;
  alg: typeof APPROVAL_TOKEN_ALG;
  use: "sig";
}

export interface Jwks {
  keys: PublishedJwk[];
}

/** Any JWK a verifier may be handed (a fetched JWKS can hold keys of other types and uses). */
export interface JwkLike {
  kid?: string;
  kty?: string;
  crv?: string;
  x?: string;
  alg?: string;
  use?: string;
}

/** A JWK set as a verifier receives it. */
export interface JwksLike {
  keys: readonly JwkLike[];
}

/**
 * The JWKS to publish: every key given, retired ones included, so tokens they signed keep verifying.
 * Drop retired keys with `pruneSigningKeys` first; only public members are ever copied.
 */
export function jwksFromKeys(keys: readonly PublishedSigningKey[]): Jwks {
  return {
    keys: keys.map((key) => ({
      kty: "OKP",
      crv: "Ed25519",
      x: key.public_jwk.x,
      kid: key.kid,
      alg: APPROVAL_TOKEN_ALG,
      use: "sig",
    })),
  };
}

/**
 * The Ed25519 verification key published under `kid`, or `undefined`. A key declaring another
 * algorithm or use is not a candidate: the JWKS owner said it must not verify approval tokens.
 */
export function findVerificationJwk(jwks: JwksLike, kid: string): Ed25519PublicJwk | undefined {
  for (const jwk of jwks.keys) {
    if (jwk.kid !== kid || jwk.kty !== "OKP" || jwk.crv !== "Ed25519") continue;
    if (jwk.alg !== undefined && jwk.alg !== APPROVAL_TOKEN_ALG) continue;
    if (jwk.use !== undefined && jwk.use !== "sig") continue;
    if (!isKeyBytes(jwk.x)) continue;
    return { kty: "OKP", crv: "Ed25519", x: jwk.x };
  }
  return undefined;
}
