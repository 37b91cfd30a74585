/**
 * What an approval token says. It binds one decided request to one tool and one exact set of
 * arguments (by hash) for a bounded time; anyone holding the issuer's public keys can check it.
 */
export interface ApprovalTokenClaims {
  /** Who issued the token: the server's public URL, or "countersign". */
  iss: string;
  /** Token id, unique per token; the server consumes tokens by it (single use). */
  jti: string;
  /** The id of the agent key the approval was issued to. */
  sub: string;
  request_id: string;
  /** The agent id the caller *claimed* when asking; `sub` is the verified identity. */
  agent_id: string | null;
  /** The tool whose call was approved. */
  tool: string;
  /** `argsHash` of the approved arguments (after any reviewer edits). */
  args_hash: string;
  /** Issued at, seconds since the Unix epoch. Also serves as "not before". */
  iat: number;
  /** Expires at, seconds since the Unix epoch. */
  exp: number;
  run_id?: string;
  call_id?: string;
}

/** JWS `typ`: stops any other JWT signed with the same key being accepted as an approval. */
export const APPROVAL_TOKEN_TYPE = "countersign-approval+jwt";
/** The only signature algorithm accepted; anything else (`none` above all) is refused. */
export const APPROVAL_TOKEN_ALG = "EdDSA";
/** Tolerated disagreement between the issuer's and the verifier's clocks. */
export const DEFAULT_CLOCK_SKEW_SECONDS = 30;
/** Tokens carry a hash, not the arguments, so they are small; anything longer is not ours. */
export const MAX_APPROVAL_TOKEN_LENGTH = 8192;

export interface ApprovalTokenHeader {
  alg: typeof APPROVAL_TOKEN_ALG;
  typ: typeof APPROVAL_TOKEN_TYPE;
  kid: string;
}

const ARGS_HASH_PATTERN = /^sha256:[0-9a-f]{64}$/;
const REQUIRED_STRINGS = ["iss", "jti", "sub", "request_id", "tool"] as const;
const OPTIONAL_STRINGS = ["run_id", "call_id"] as const;

/**
 * The claims from an untrusted object, or a list of what is wrong with them. Used on both sides:
 * the signer refuses to issue what the verifier would refuse to accept.
 *
 * Unknown claims are dropped rather than refused, so a newer issuer can add claims without
 * breaking older verifiers; only the claims listed here are ever returned.
 */
export function parseApprovalTokenClaims(
  value: unknown,
): { ok: true; claims: ApprovalTokenClaims } | { ok: false; problems: string[] } {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, problems: ["claims must be a JSON object"] };
  }
  const input = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const name of REQUIRED_STRINGS) {
    if (!isNonEmptyString(input[name])) problems.push(`${name} must be a non-empty string`);
  }
  for (const name of OPTIONAL_STRINGS) {
    if (input[name] !== undefined && !isNonEmptyString(input[name])) {
      problems.push(`${name} must be a non-empty string when present`);
    }
  }
  if (input.agent_id !== null && !isNonEmptyString(input.agent_id)) {
    problems.push("agent_id must be a non-empty string or null");
  }
  if (typeof input.args_hash !== "string" || !ARGS_HASH_PATTERN.test(input.args_hash)) {
    problems.push("args_hash must be sha256:<64 lowercase hex digits>");
  }
  if (!isEpochSeconds(input.iat)) problems.push("iat must be a non-negative integer (seconds)");
  if (!isEpochSeconds(input.exp)) problems.push("exp must be a non-negative integer (seconds)");
  if (isEpochSeconds(input.iat) && isEpochSeconds(input.exp) && input.exp <= input.iat) {
    problems.push("exp must be after iat");
  }
  if (problems.length > 0) return { ok: false, problems };

  const claims: ApprovalTokenClaims = {
    iss: input.iss as string,
    jti: input.jti as string,
    sub: input.sub as string,
    request_id: input.request_id as string,
    agent_id: input.agent_id as string | null,
    tool: input.tool as string,
    args_hash: input.args_hash as string,
    iat: input.iat as number,
    exp: input.exp as number,
  };
  if (input.run_id !== undefined) claims.run_id = input.run_id as string;
  if (input.call_id !== undefined) claims.call_id = input.call_id as string;
  return { ok: true, claims };
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === "string" && value.length > 0;
}

function isEpochSeconds(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}
