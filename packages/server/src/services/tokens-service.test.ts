import { randomBytes } from "node:crypto";
import {
  type ApprovalRequest,
  ApprovalTokenError,
  argsHash,
  type Clock,
  ConflictError,
  ForbiddenError,
  generateSigningKey,
  IdGenerator,
  ManualClock,
  type Principal,
  type RandomSource,
  signApprovalToken,
  ValidationError,
} from "@countersign/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { listAudit } from "../repos/audit-repo.ts";
import type { Store } from "../storage/store.ts";
import { createTestStore, STORAGE_KINDS, type TestStore } from "../testing/harness.ts";
import { AuditService } from "./audit-service.ts";
import type { ServiceDeps } from "./deps.ts";
import { RequestsService } from "./requests-service.ts";
import { SigningKeysService } from "./signing-keys-service.ts";
import { TokensService } from "./tokens-service.ts";

const agent: Principal = { key_id: "key_agent", name: "agent", role: "agent" };
const otherAgent: Principal = { key_id: "key_other", name: "other", role: "agent" };
const reviewer: Principal = { key_id: "key_reviewer", name: "reviewer", role: "reviewer" };
const admin: Principal = { key_id: "key_admin", name: "admin", role: "admin" };
const random: RandomSource = { bytes: (n) => new Uint8Array(randomBytes(n)) };

/** One replica's services over a store. */
async function replica(store: Store, clock: Clock) {
  const deps: ServiceDeps = { store, clock, random, ids: new IdGenerator(clock, random) };
  const signingKeys = new SigningKeysService(deps);
  await signingKeys.ensureActiveKey();
  return { signingKeys, tokens: new TokensService(deps, signingKeys), requests: new RequestsService(deps) };
}

type Replica = Awaited<ReturnType<typeof replica>>;

async function approvedRequest(r: Replica, modifiedArgs?: unknown): Promise<ApprovalRequest> {
  const { request } = await r.requests.create(agent, {
    question: "Refund order 7?",
    correlation_id: "run-7",
    actor: { agent_id: "billing-bot" },
    tool: { name: "issue_refund", args: { order: 7, amount: 30 } },
  });
  return r.requests.respond(reviewer, request.id, {
    approved: true,
    ...(modifiedArgs !== undefined ? { modified_args: modifiedArgs } : {}),
  });
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail("expected a rejection"),
    (error: unknown) => error,
  );
}

describe.each(STORAGE_KINDS)("approval tokens (%s)", (kind) => {
  let t: TestStore;
  let clock: ManualClock;
  let r: Replica;
  const args = { order: 7, amount: 30 };
  beforeEach(async () => {
    t = await createTestStore(kind);
    clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
    r = await replica(t.store, clock);
  });
  afterEach(() => t.cleanup());

  it("issues a token bound to the request, its agent key and the approved arguments", async () => {
    const request = await approvedRequest(r);
    const token = r.tokens.issueFor(request, args, clock.now());
    const { claims, consumed } = await r.tokens.verify({ token, tool: "issue_refund", args });
    expect(consumed).toBe(false);
    const iat = Math.floor(clock.now() / 1000);
    expect(claims).toEqual({
      iss: "countersign",
      jti: expect.stringMatching(/^tok_[0-9A-Z]{26}$/),
      sub: agent.key_id,
      request_id: request.id,
      agent_id: "billing-bot",
      tool: "issue_refund",
      args_hash: argsHash(args),
      iat,
      exp: iat + 3600,
    });
    const header = JSON.parse(Buffer.from(token.split(".")[0] ?? "", "base64url").toString("utf8"));
    expect(header.kid).toBe(r.signingKeys.activeKey().kid);
  });

  it("binds the reviewer's edited arguments, not the proposed ones", async () => {
    const edited = { order: 7, amount: 20 };
    const request = await approvedRequest(r, edited);
    const token = r.tokens.issueFor(request, edited, clock.now());
    expect((await r.tokens.verify({ token, tool: "issue_refund", args: edited })).claims.args_hash).toBe(
      argsHash(edited),
    );
    const refused = await rejection(r.tokens.verify({ token, tool: "issue_refund", args }));
    expect(refused).toMatchObject({ code: "args_mismatch", status: 403 });
  });

  it("carries the governed run and call, and a fresh jti every time", async () => {
    const request = await approvedRequest(r);
    const governed: ApprovalRequest = {
      ...request,
      governance: {
        governed_call_id: "gov_1",
        run_id: "run_42",
        call_id: "call_7",
        rule_id: "refunds",
        policy_version: "v1",
        risk: null,
        reason: "refunds need a human",
        kind: "policy",
        environment: null,
      },
    };
    const first = r.tokens.issueFor(governed, args, clock.now());
    const second = r.tokens.issueFor(governed, args, clock.now());
    const a = (await r.tokens.verify({ token: first, tool: "issue_refund", args })).claims;
    const b = (await r.tokens.verify({ token: second, tool: "issue_refund", args })).claims;
    expect(a).toMatchObject({ run_id: "run_42", call_id: "call_7" });
    expect(a.jti).not.toBe(b.jti);

    const withoutCallId = { ...governed, governance: { ...governed.governance, call_id: null } };
    const token = r.tokens.issueFor(withoutCallId as ApprovalRequest, args, clock.now());
    const claims = (await r.tokens.verify({ token, tool: "issue_refund", args })).claims;
    expect(claims.run_id).toBe("run_42");
    expect(claims).not.toHaveProperty("call_id");
  });

  it("refuses to issue for a request that is not approved or names no tool", async () => {
    const request = await approvedRequest(r);
    expect(() => r.tokens.issueFor({ ...request, status: "rejected" }, args, clock.now())).toThrow(
      ConflictError,
    );
    expect(() => r.tokens.issueFor({ ...request, tool: null }, args, clock.now())).toThrow(ValidationError);
  });

  it("refuses another tool, other arguments and an expired or future token, each with its code", async () => {
    const token = r.tokens.issueFor(await approvedRequest(r), args, clock.now());
    const codeOf = async (call: { tool: string; args?: unknown }) =>
      ((await rejection(r.tokens.verify({ token, ...call }))) as ApprovalTokenError).code;

    expect(await codeOf({ tool: "delete_customer", args })).toBe("tool_mismatch");
    expect(await codeOf({ tool: "issue_refund", args: { ...args, amount: 31 } })).toBe("args_mismatch");
    expect(await codeOf({ tool: "issue_refund" })).toBe("args_mismatch");
    clock.advance(-31_000);
    expect(await codeOf({ tool: "issue_refund", args })).toBe("not_yet_valid");
    clock.advance(31_000 + 3600_000 + 30_000);
    expect(await codeOf({ tool: "issue_refund", args })).toBe("expired");
    await expect(r.tokens.consume({ token, tool: "issue_refund", args }, agent)).rejects.toThrow(
      ApprovalTokenError,
    );
  });

  it("refuses a token signed by a key this server never had", async () => {
    const request = await approvedRequest(r);
    const foreign = generateSigningKey("sig_foreign", new Date(clock.now()).toISOString());
    const iat = Math.floor(clock.now() / 1000);
    const token = signApprovalToken(
      {
        iss: "countersign",
        jti: "tok_forged",
        sub: agent.key_id,
        request_id: request.id,
        agent_id: null,
        tool: "issue_refund",
        args_hash: argsHash(args),
        iat,
        exp: iat + 60,
      },
      foreign,
    );
    expect(await rejection(r.tokens.verify({ token, tool: "issue_refund", args }))).toMatchObject({
      code: "unknown_key",
    });
  });

  it("consumes a token once, audits it for the agent, and keeps the chain intact", async () => {
    const request = await approvedRequest(r);
    const token = r.tokens.issueFor(request, args, clock.now());
    const used = await r.tokens.consume({ token, tool: "issue_refund", args }, agent);
    expect(used.executed_args_hash).toBe(argsHash(args));
    expect(used.claims.request_id).toBe(request.id);

    const again = await rejection(r.tokens.consume({ token, tool: "issue_refund", args }, agent));
    expect(again).toBeInstanceOf(ConflictError);
    expect(again).toMatchObject({ code: "token_already_used", status: 409 });
    expect((await r.tokens.verify({ token, tool: "issue_refund", args })).consumed).toBe(true);

    const row = await t.store.db.selectFrom("token_uses").selectAll().executeTakeFirstOrThrow();
    expect(row).toEqual({
      jti: used.claims.jti,
      request_id: request.id,
      consumed_at: used.consumed_at,
      consumed_by: agent.key_id,
      executed_args_hash: argsHash(args),
    });

    const entries = await listAudit(t.store.db, 0, 100);
    const consumed = entries.filter((e) => e.kind === "token.consumed");
    expect(consumed).toEqual([
      expect.objectContaining({
        subject_id: request.id,
        correlation_id: "run-7",
        actor: { type: "key", key_id: agent.key_id, name: agent.name, role: "agent" },
        data: {
          request_id: request.id,
          jti: used.claims.jti,
          tool: "issue_refund",
          approved_args_hash: argsHash(args),
          executed_args_hash: argsHash(args),
        },
      }),
    ]);
    const owner = await t.store.db
      .selectFrom("audit")
      .select("owner_key_id")
      .where("kind", "=", "token.consumed")
      .executeTakeFirstOrThrow();
    expect(owner.owner_key_id).toBe(agent.key_id);
    expect(await new AuditService(t.store).verify()).toMatchObject({ ok: true });
  });

  it("lets exactly one of many concurrent consumptions succeed", async () => {
    const token = r.tokens.issueFor(await approvedRequest(r), args, clock.now());
    const outcomes = await Promise.allSettled(
      Array.from({ length: 12 }, () => r.tokens.consume({ token, tool: "issue_refund", args }, agent)),
    );
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    for (const o of outcomes.filter((o) => o.status === "rejected")) {
      expect((o as PromiseRejectedResult).reason).toMatchObject({ code: "token_already_used" });
    }
  });

  it("lets exactly one consumption succeed across two replicas", async () => {
    const other = await replica(await t.reopen(), clock);
    const token = r.tokens.issueFor(await approvedRequest(r), args, clock.now());
    const outcomes = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        (i % 2 === 0 ? r : other).tokens.consume({ token, tool: "issue_refund", args }, agent),
      ),
    );
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    const rows = await t.store.db.selectFrom("token_uses").select("jti").execute();
    expect(rows).toHaveLength(1);
  });

  it("is consumed only by its own agent key or an admin", async () => {
    const token = r.tokens.issueFor(await approvedRequest(r), args, clock.now());
    const call = { token, tool: "issue_refund", args };
    await expect(r.tokens.consume(call, otherAgent)).rejects.toThrow(ForbiddenError);
    await expect(r.tokens.consume(call, reviewer)).rejects.toThrow(ForbiddenError);
    expect(await t.store.db.selectFrom("token_uses").select("jti").execute()).toHaveLength(0);
    await r.tokens.consume(call, admin);
    const entries = await listAudit(t.store.db, 0, 100);
    expect(entries.find((e) => e.kind === "token.consumed")?.actor).toMatchObject({ key_id: admin.key_id });
  });

  it("verifies a token signed after a rotation this replica has not heard of", async () => {
    const other = await replica(await t.reopen(), clock);
    const before = r.tokens.issueFor(await approvedRequest(r), args, clock.now());
    const { kid } = await other.signingKeys.rotate(admin);
    const after = other.tokens.issueFor(await approvedRequest(other), args, clock.now());
    expect(JSON.parse(Buffer.from(after.split(".")[0] ?? "", "base64url").toString()).kid).toBe(kid);

    // r still signs with (and knows only) the old key until it hears of the rotation.
    expect(r.signingKeys.activeKey().kid).not.toBe(kid);
    expect((await r.tokens.verify({ token: after, tool: "issue_refund", args })).consumed).toBe(false);
    expect(r.signingKeys.activeKey().kid).toBe(kid);
    // Tokens of the retired key keep verifying on both replicas.
    await r.tokens.consume({ token: before, tool: "issue_refund", args }, agent);
    await expect(other.tokens.verify({ token: before, tool: "issue_refund", args })).resolves.toMatchObject({
      consumed: true,
    });
  });

  it("refuses a token lifetime longer than retired keys stay published", () => {
    const deps: ServiceDeps = { store: t.store, clock, random, ids: new IdGenerator(clock, random) };
    const keys = new SigningKeysService(deps, { maxTokenLifetimeSeconds: 600 });
    expect(() => new TokensService(deps, keys, { tokenTtlSeconds: 601 })).toThrow(RangeError);
    expect(new TokensService(deps, keys, { tokenTtlSeconds: 600 }).tokenTtlSeconds).toBe(600);
    expect(new TokensService(deps, keys).tokenTtlSeconds).toBe(600);
  });
});
