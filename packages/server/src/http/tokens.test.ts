import { randomBytes } from "node:crypto";
import {
  type ApprovalRequest,
  argsHash,
  type Clock,
  IdGenerator,
  ManualClock,
  type RandomSource,
  type Role,
} from "@countersign/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServices } from "../runtime.ts";
import type { ServiceDeps } from "../services/deps.ts";
import { SigningKeysService } from "../services/signing-keys-service.ts";
import { TokensService } from "../services/tokens-service.ts";
import type { Store } from "../storage/store.ts";
import { createTestStore, STORAGE_KINDS, type StorageKind, type TestStore } from "../testing/harness.ts";
import { call } from "../testing/http-client.ts";
import { buildApp } from "./app.ts";
import type { App } from "./app-type.ts";
import { tokenRoutes } from "./routes/tokens.ts";

const random: RandomSource = { bytes: (n) => new Uint8Array(randomBytes(n)) };

function tokenServices(store: Store, clock: Clock) {
  const deps: ServiceDeps = { store, clock, random, ids: new IdGenerator(clock, random) };
  const signingKeys = new SigningKeysService(deps);
  return { signingKeys, tokens: new TokensService(deps, signingKeys) };
}

interface TokenServer {
  url: string;
  app: App;
  testStore: TestStore;
  tokens: TokensService;
  signingKeys: SigningKeysService;
  admin: string;
  createKey(role: Role): Promise<{ id: string; secret: string }>;
  close(): Promise<void>;
}

/**
 * The real app over a private database, with the token services started as the server starts
 * them. The routes are registered here unless app.ts already does so for these same services.
 */
async function startTokenServer(storage: StorageKind, clock: Clock): Promise<TokenServer> {
  const testStore = await createTestStore(storage);
  const base = createServices(testStore.store, { clock });
  const { signingKeys, tokens } = tokenServices(testStore.store, clock);
  await signingKeys.start();
  const services = { ...base, signingKeys, tokens };
  const app = await buildApp({ services, logger: false });
  if (!app.hasRoute({ method: "POST", url: "/v1/tokens/verify" })) tokenRoutes(app, services);
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  const admin = await base.keys.ensureAdmin();
  if (admin === null) throw new Error("a fresh database already had an admin key");
  return {
    url,
    app,
    testStore,
    tokens,
    signingKeys,
    admin,
    async createKey(role) {
      const { key, secret } = await base.keys.create(
        { role, name: `${role} ${randomBytes(3).toString("hex")}` },
        null,
      );
      return { id: key.id, secret };
    },
    async close() {
      await app.close();
      await signingKeys.stop();
      await testStore.cleanup();
    },
  };
}

type Problem = { status: number; code: string; detail: string };
type Jwks = { keys: Array<Record<string, unknown> & { kid: string }> };
type Claims = { jti: string; sub: string; request_id: string; tool: string; args_hash: string };

const kidOf = (token: string): string =>
  JSON.parse(Buffer.from(token.split(".")[0] ?? "", "base64url").toString("utf8")).kid;

describe.each(STORAGE_KINDS)("approval tokens over HTTP (%s)", (storage) => {
  let s: TokenServer;
  const clock = new ManualClock(Date.now());
  let agent: { id: string; secret: string };
  let otherAgent: { id: string; secret: string };
  let reviewer: { id: string; secret: string };
  const args = { to: "ann@example.com", subject: "Your refund" };

  beforeAll(async () => {
    s = await startTokenServer(storage, clock);
    [agent, otherAgent, reviewer] = await Promise.all([
      s.createKey("agent"),
      s.createKey("agent"),
      s.createKey("reviewer"),
    ]);
  });
  afterAll(() => s.close());

  /** A request created and approved through the API, and a token issued for it. */
  async function approvedToken(
    toolArgs: unknown = args,
  ): Promise<{ request: ApprovalRequest; token: string }> {
    const created = await call<ApprovalRequest>(s.url, "POST", "/v1/requests", {
      key: agent.secret,
      body: {
        question: "Send it?",
        correlation_id: `case-${storage}`,
        tool: { name: "email.send", args: toolArgs },
      },
    });
    expect(created.status).toBe(201);
    const decided = await call<ApprovalRequest>(s.url, "POST", `/v1/requests/${created.body.id}/respond`, {
      key: reviewer.secret,
      body: { approved: true },
    });
    expect(decided.body.status).toBe("approved");
    return { request: decided.body, token: s.tokens.issueFor(decided.body, toolArgs, clock.now()) };
  }

  it("publishes the public keys without authentication, cacheable, with no private member", async () => {
    const res = await call<Jwks>(s.url, "GET", "/.well-known/jwks.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("public, max-age=300");
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.body.keys.map((k) => k.kid)).toContain(s.signingKeys.activeKey().kid);
    for (const key of res.body.keys) {
      expect(Object.keys(key).sort()).toEqual(["alg", "crv", "kid", "kty", "use", "x"]);
    }
  });

  it("verifies, consumes once, then answers 409, and the audit chain still verifies", async () => {
    const { request, token } = await approvedToken();
    const verified = await call<{ valid: boolean; consumed: boolean; claims: Claims }>(
      s.url,
      "POST",
      "/v1/tokens/verify",
      { key: agent.secret, body: { token, tool: "email.send", args } },
    );
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({
      valid: true,
      consumed: false,
      claims: { sub: agent.id, request_id: request.id, tool: "email.send", args_hash: argsHash(args) },
    });

    const consumed = await call<{ consumed: boolean; claims: Claims; executed_args_hash: string }>(
      s.url,
      "POST",
      "/v1/tokens/consume",
      { key: agent.secret, body: { token, tool: "email.send", args } },
    );
    expect(consumed.status).toBe(200);
    expect(consumed.body).toMatchObject({
      consumed: true,
      claims: { jti: verified.body.claims.jti },
      executed_args_hash: argsHash(args),
    });

    const again = await call<Problem>(s.url, "POST", "/v1/tokens/consume", {
      key: agent.secret,
      body: { token, tool: "email.send", args },
    });
    expect(again.status).toBe(409);
    expect(again.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(again.body.code).toBe("token_already_used");

    const after = await call<{ consumed: boolean }>(s.url, "POST", "/v1/tokens/verify", {
      key: agent.secret,
      body: { token, tool: "email.send", args },
    });
    expect(after.body.consumed).toBe(true);

    const audit = await call<{ data: Array<{ kind: string; data: Record<string, unknown> }> }>(
      s.url,
      "GET",
      "/v1/audit?limit=1000",
      { key: s.admin },
    );
    const entries = audit.body.data.filter(
      (e) => e.kind === "token.consumed" && e.data.jti === verified.body.claims.jti,
    );
    expect(entries).toHaveLength(1);
    const chain = await call<{ ok: boolean }>(s.url, "GET", "/v1/audit/verify", { key: s.admin });
    expect(chain.body.ok).toBe(true);
  });

  it("lets exactly one of many concurrent consumptions succeed", async () => {
    const { token } = await approvedToken();
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        call<Problem>(s.url, "POST", "/v1/tokens/consume", {
          key: agent.secret,
          body: { token, tool: "email.send", args },
        }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, ...Array(9).fill(409)]);
  });

  it("refuses a token for another call with the reason's code", async () => {
    const { token } = await approvedToken();
    const verify = (body: Record<string, unknown>) =>
      call<Problem>(s.url, "POST", "/v1/tokens/verify", { key: agent.secret, body });

    const otherTool = await verify({ token, tool: "email.delete", args });
    expect([otherTool.status, otherTool.body.code]).toEqual([403, "tool_mismatch"]);
    const otherArgs = await verify({ token, tool: "email.send", args: { ...args, to: "eve@example.com" } });
    expect([otherArgs.status, otherArgs.body.code]).toEqual([403, "args_mismatch"]);
    const noArgs = await verify({ token, tool: "email.send" });
    expect([noArgs.status, noArgs.body.code]).toEqual([403, "args_mismatch"]);

    const [header, payload, signature] = token.split(".") as [string, string, string];
    const flipped = `${signature.slice(0, 10)}${signature[10] === "A" ? "B" : "A"}${signature.slice(11)}`;
    const tampered = await verify({ token: `${header}.${payload}.${flipped}`, tool: "email.send", args });
    expect([tampered.status, tampered.body.code]).toEqual([403, "bad_signature"]);
    const garbage = await verify({ token: "not-a-token", tool: "email.send", args });
    expect([garbage.status, garbage.body.code]).toEqual([400, "malformed"]);

    const consume = await call<Problem>(s.url, "POST", "/v1/tokens/consume", {
      key: agent.secret,
      body: { token, tool: "email.send", args: { ...args, to: "eve@example.com" } },
    });
    expect([consume.status, consume.body.code]).toEqual([403, "args_mismatch"]);
    const unused = await verify({ token, tool: "email.send", args });
    expect(unused.body).toMatchObject({ consumed: false });
  });

  it("refuses an expired token", async () => {
    const { token } = await approvedToken();
    clock.advance((3600 + 30) * 1000);
    try {
      const res = await call<Problem>(s.url, "POST", "/v1/tokens/consume", {
        key: agent.secret,
        body: { token, tool: "email.send", args },
      });
      expect([res.status, res.body.code]).toEqual([403, "expired"]);
    } finally {
      clock.advance(-(3600 + 30) * 1000);
    }
  });

  it("accepts absent arguments for a token that approved none", async () => {
    const { token } = await approvedToken({});
    const res = await call(s.url, "POST", "/v1/tokens/verify", {
      key: agent.secret,
      body: { token, tool: "email.send" },
    });
    expect(res.status).toBe(200);
  });

  it("refuses bodies outside the schema", async () => {
    const { token } = await approvedToken();
    const bad = [
      { token, tool: "email.send", args, extra: 1 },
      { token, args },
      { tool: "email.send", args },
      { token: "a".repeat(8193), tool: "email.send", args },
      { token: "", tool: "email.send", args },
      { token: 42, tool: "email.send", args },
    ];
    for (const body of bad) {
      for (const path of ["/v1/tokens/verify", "/v1/tokens/consume"]) {
        const res = await call<Problem>(s.url, "POST", path, { key: agent.secret, body });
        expect([path, res.status, res.body.code]).toEqual([path, 400, "invalid_request"]);
      }
    }
  });

  it("lets only the token's own agent key or an admin consume it", async () => {
    const { token } = await approvedToken();
    const body = { token, tool: "email.send", args };
    const consume = (key?: string) => call<Problem>(s.url, "POST", "/v1/tokens/consume", { key, body });

    expect((await consume()).status).toBe(401);
    expect((await consume(reviewer.secret)).status).toBe(403);
    const foreign = await consume(otherAgent.secret);
    expect([foreign.status, foreign.body.code]).toEqual([403, "forbidden"]);
    const verifyByReviewer = await call(s.url, "POST", "/v1/tokens/verify", { key: reviewer.secret, body });
    expect(verifyByReviewer.status).toBe(403);
    expect((await consume(s.admin)).status).toBe(200);
  });

  it("rotates: old tokens keep verifying, new ones use the new key, the JWKS publishes both", async () => {
    const { token: before } = await approvedToken();
    const oldKid = s.signingKeys.activeKey().kid;
    for (const key of [agent.secret, reviewer.secret]) {
      expect((await call(s.url, "POST", "/v1/signing-keys/rotate", { key })).status).toBe(403);
    }

    const rotated = await call<Jwks & { active_kid: string; retired: string[] }>(
      s.url,
      "POST",
      "/v1/signing-keys/rotate",
      { key: s.admin },
    );
    expect(rotated.status).toBe(200);
    expect(rotated.body.active_kid).not.toBe(oldKid);
    expect(rotated.body.retired).toEqual([oldKid]);
    expect(rotated.body.keys.map((k) => k.kid)).toEqual(
      expect.arrayContaining([oldKid, rotated.body.active_kid]),
    );

    const { token: after } = await approvedToken();
    expect(kidOf(before)).toBe(oldKid);
    expect(kidOf(after)).toBe(rotated.body.active_kid);
    for (const token of [before, after]) {
      const res = await call(s.url, "POST", "/v1/tokens/verify", {
        key: agent.secret,
        body: { token, tool: "email.send", args },
      });
      expect(res.status).toBe(200);
    }
    const jwks = await call<Jwks>(s.url, "GET", "/.well-known/jwks.json");
    expect(jwks.body.keys.map((k) => k.kid)).toEqual(
      expect.arrayContaining([oldKid, rotated.body.active_kid]),
    );
  });

  it("verifies a token signed by a key another replica made after this one started", async () => {
    const replica = tokenServices(await s.testStore.reopen(), clock);
    await replica.signingKeys.ensureActiveKey();
    const { kid } = await replica.signingKeys.rotate({ key_id: "key_ops", name: "ops", role: "admin" });
    const { request } = await approvedToken();
    const token = replica.tokens.issueFor(request, args, clock.now());
    expect(kidOf(token)).toBe(kid);

    const res = await call<{ consumed: boolean }>(s.url, "POST", "/v1/tokens/consume", {
      key: agent.secret,
      body: { token, tool: "email.send", args },
    });
    expect(res.status).toBe(200);
    const jwks = await call<Jwks>(s.url, "GET", "/.well-known/jwks.json");
    expect(jwks.body.keys.map((k) => k.kid)).toContain(kid);
  });

  it("documents the endpoints in the OpenAPI document", async () => {
    const doc = await call<{ paths: Record<string, unknown> }>(s.url, "GET", "/openapi.json");
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        "/.well-known/jwks.json",
        "/v1/tokens/verify",
        "/v1/tokens/consume",
        "/v1/signing-keys/rotate",
      ]),
    );
  });
});
