import {
  type ApprovalRequest,
  type ApprovalTokenClaims,
  ApprovalTokenError,
  argsHash,
  ConflictError,
  ForbiddenError,
  isoAt,
  type Principal,
  principalActor,
  signApprovalToken,
  ValidationError,
  verifyApprovalToken,
} from "@countersign/core";
import { isUniqueViolation } from "../repos/executor.ts";
import { getRequest } from "../repos/requests-repo.ts";
import { getTokenUse, insertTokenUse } from "../repos/token-uses-repo.ts";
import type { ServiceDeps } from "./deps.ts";
import { KilledError, type KillSwitchService } from "./kill-switch-service.ts";
import type { SigningKeysService } from "./signing-keys-service.ts";

/** `iss` of every token; a deployment with a public URL may name itself instead. */
export const DEFAULT_TOKEN_ISSUER = "countersign";

export interface TokensOptions {
  /** `exp - iat`; at most (and by default) the signing keys' `maxTokenLifetimeSeconds`, 3600. */
  tokenTtlSeconds?: number;
  issuer?: string;
  /** Consumption is refused while a kill switch covers the token's agent or run. */
  killSwitch?: KillSwitchService;
}

/** A token presented for a call: the tool about to run and its exact arguments. */
export interface TokenCall {
  token: string;
  tool: string;
  /** Absent arguments hash as `{}`, as they did when the token was issued. */
  args?: unknown;
}

export interface VerifiedToken {
  claims: ApprovalTokenClaims;
  /** Whether the token was already consumed; offline verification cannot tell. */
  consumed: boolean;
}

export interface ConsumedToken {
  claims: ApprovalTokenClaims;
  executed_args_hash: string;
  consumed_at: string;
}

/**
 * Issues approval tokens for approved requests, and verifies and consumes them for callers that
 * ask the server rather than check offline. Consumption is single-use: the `token_uses` row and
 * its audit entry commit together, and the primary key on `jti` refuses a second use.
 */
export class TokensService {
  readonly tokenTtlSeconds: number;
  private readonly deps: ServiceDeps;
  private readonly signingKeys: SigningKeysService;
  private readonly issuer: string;
  private readonly killSwitch: KillSwitchService | undefined;

  constructor(deps: ServiceDeps, signingKeys: SigningKeysService, options: TokensOptions = {}) {
    this.deps = deps;
    this.killSwitch = options.killSwitch;
    this.signingKeys = signingKeys;
    this.tokenTtlSeconds = options.tokenTtlSeconds ?? signingKeys.maxTokenLifetimeSeconds;
    this.issuer = options.issuer ?? DEFAULT_TOKEN_ISSUER;
    // A longer-lived token would outlive its retired key in the JWKS and stop verifying early.
    if (
      !Number.isSafeInteger(this.tokenTtlSeconds) ||
      this.tokenTtlSeconds <= 0 ||
      this.tokenTtlSeconds > signingKeys.maxTokenLifetimeSeconds
    ) {
      throw new RangeError(
        `tokenTtlSeconds must be a positive integer up to ${signingKeys.maxTokenLifetimeSeconds}, got ${this.tokenTtlSeconds}`,
      );
    }
  }

  /**
   * Signs a token that lets the request's agent key run the request's tool with `approvedArgs`
   * (the arguments as finally approved, after any reviewer edits) until `now` plus the TTL.
   */
  issueFor(request: ApprovalRequest, approvedArgs: unknown, now: number): string {
    if (request.status !== "approved") {
      throw new ConflictError("not_approved", `request ${request.id} is ${request.status}, not approved`);
    }
    if (request.tool === null) {
      throw new ValidationError(`request ${request.id} names no tool call to approve`);
    }
    const iat = Math.floor(now / 1000);
    const claims: ApprovalTokenClaims = {
      iss: this.issuer,
      jti: this.deps.ids.next("tok"),
      sub: request.created_by.key_id,
      request_id: request.id,
      agent_id: request.actor?.agent_id || null,
      tool: request.tool.name,
      args_hash: argsHash(approvedArgs),
      iat,
      exp: iat + this.tokenTtlSeconds,
    };
    const governance = request.governance;
    if (governance?.run_id) claims.run_id = governance.run_id;
    if (governance?.call_id) claims.call_id = governance.call_id;
    return signApprovalToken(claims, this.signingKeys.activeKey());
  }

  /** The claims of a token that authorises this call, or an `ApprovalTokenError` saying why not. */
  async verify(call: TokenCall): Promise<VerifiedToken> {
    const claims = await this.check(call);
    const use = await getTokenUse(this.deps.store.db, claims.jti);
    return { claims, consumed: use !== undefined };
  }

  /**
   * Uses the token for this call, once. Only the agent key the token was issued to (or an admin)
   * may consume it; a second consumption is a `token_already_used` conflict.
   */
  async consume(call: TokenCall, by: Principal): Promise<ConsumedToken> {
    const claims = await this.check(call);
    const owner = by.role === "admin" || (by.role === "agent" && by.key_id === claims.sub);
    if (!owner) throw new ForbiddenError("this approval token was issued to another agent key");
    // Equal to the approved hash once `check` passed; recorded apart so the audit entry says so itself.
    const executedArgsHash = argsHash(call.args);
    const at = isoAt(this.deps.clock.now());
    await this.deps.store.write(async (ctx) => {
      if (await getTokenUse(ctx.db, claims.jti)) throw alreadyUsed(claims.jti);
      try {
        await insertTokenUse(ctx.db, {
          jti: claims.jti,
          request_id: claims.request_id,
          consumed_at: at,
          consumed_by: by.key_id,
          executed_args_hash: executedArgsHash,
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw alreadyUsed(claims.jti);
        throw error;
      }
      const request = await getRequest(ctx.db, claims.request_id);
      // Read in the consuming transaction, so a switch engaged anywhere stops the very next write.
      const killed = request ? await this.killSwitch?.coveringRequest(ctx.db, request) : undefined;
      if (killed)
        throw new KilledError(`kill switch ${killed.id} (${killed.scope}) is engaged: ${killed.reason}`);
      await ctx.appendAudit(
        [
          {
            at,
            kind: "token.consumed",
            subject_id: claims.request_id,
            correlation_id: request?.correlation_id ?? null,
            actor: principalActor(by),
            data: {
              request_id: claims.request_id,
              jti: claims.jti,
              tool: claims.tool,
              approved_args_hash: claims.args_hash,
              executed_args_hash: executedArgsHash,
            },
          },
        ],
        claims.sub,
      );
    });
    return { claims, executed_args_hash: executedArgsHash, consumed_at: at };
  }

  private async check(call: TokenCall): Promise<ApprovalTokenClaims> {
    const presented = {
      tool: call.tool,
      args: call.args,
      now: this.deps.clock.now(),
      clockSkewSeconds: this.signingKeys.clockSkewSeconds,
    };
    try {
      return verifyApprovalToken(call.token, presented, this.signingKeys.jwks());
    } catch (error) {
      if (!(error instanceof ApprovalTokenError) || error.code !== "unknown_key") throw error;
      // Perhaps signed by a key another replica made since this one last read the keyring.
      const kid = unverifiedKid(call.token);
      if (kid === undefined || !(await this.signingKeys.resolve(kid))) throw error;
      return verifyApprovalToken(call.token, presented, this.signingKeys.jwks());
    }
  }
}

function alreadyUsed(jti: string): ConflictError {
  return new ConflictError("token_already_used", `approval token ${jti} has already been used`);
}

/** The header's `kid`, unchecked: used only to decide whether to look for a key, never to trust one. */
function unverifiedKid(token: string): string | undefined {
  try {
    const header: unknown = JSON.parse(Buffer.from(token.split(".")[0] ?? "", "base64url").toString("utf8"));
    const kid = (header as { kid?: unknown } | null)?.kid;
    return typeof kid === "string" && kid.length > 0 ? kid : undefined;
  } catch {
    return undefined;
  }
}
