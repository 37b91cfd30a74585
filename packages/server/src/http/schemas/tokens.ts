import { MAX_APPROVAL_TOKEN_LENGTH } from "@countersign/core";
import { Type } from "typebox";
import { Strict, ToolName } from "./common.ts";

/** A token presented for a call. The token is only bounded here, so a bad one gets its own code. */
export const TokenCallBody = Strict({
  token: Type.String({
    minLength: 1,
    maxLength: MAX_APPROVAL_TOKEN_LENGTH,
    description: "the approval token (JWS compact serialisation)",
  }),
  tool: ToolName,
  args: Type.Optional(
    Type.Unknown({ description: "the arguments about to run; absent arguments hash as {}" }),
  ),
});

export const TokenClaims = Type.Object({
  iss: Type.String(),
  jti: Type.String({ description: "token id; a token is consumed once, by it" }),
  sub: Type.String({ description: "id of the agent key the approval was issued to" }),
  request_id: Type.String(),
  agent_id: Type.Union([Type.String(), Type.Null()], { description: "claimed by the agent, not verified" }),
  tool: Type.String(),
  args_hash: Type.String({ description: "sha256: + hex SHA-256 of the RFC 8785 approved arguments" }),
  iat: Type.Integer({ description: "issued at, seconds since the Unix epoch" }),
  exp: Type.Integer({ description: "expires at, seconds since the Unix epoch" }),
  run_id: Type.Optional(Type.String()),
  call_id: Type.Optional(Type.String()),
});

export const VerifyTokenResult = Type.Object({
  valid: Type.Literal(true),
  claims: TokenClaims,
  consumed: Type.Boolean({ description: "whether the token has already been consumed" }),
});

export const ConsumeTokenResult = Type.Object({
  consumed: Type.Literal(true),
  claims: TokenClaims,
  executed_args_hash: Type.String(),
});

const PublishedJwk = Type.Object({
  kty: Type.Literal("OKP"),
  crv: Type.Literal("Ed25519"),
  x: Type.String({ description: "the 32-byte public key, base64url" }),
  kid: Type.String(),
  alg: Type.Literal("EdDSA"),
  use: Type.Literal("sig"),
});

export const JwksResource = Type.Object({ keys: Type.Array(PublishedJwk) });

export const RotatedKeys = Type.Object({
  active_kid: Type.String({ description: "the key that signs new tokens from now on" }),
  retired: Type.Array(Type.String(), { description: "the keys it replaced, still published for a while" }),
  keys: Type.Array(PublishedJwk),
});
