import { timingSafeEqual } from "node:crypto";
import {
  ConflictError,
  generateKeySecret,
  hashKeySecret,
  keyHint,
  looksLikeKeySecret,
  NotFoundError,
  type Principal,
  principalActor,
  type Role,
  SYSTEM_ACTOR,
  ValidationError,
} from "@countersign/core";
import {
  countActiveAdmins,
  findKeyBySecretHash,
  getKey,
  insertKey,
  type KeyRecord,
  listKeys,
  revokeKey,
} from "../repos/keys-repo.ts";
import type { ServiceDeps } from "./deps.ts";
import { KEYS_SUBJECT, PrincipalCache } from "./principal-cache.ts";

export interface PublicKey {
  id: string;
  name: string;
  role: Role;
  hint: string;
  created_at: string;
  created_by: string | null;
  revoked_at: string | null;
}

export function publicKey(k: KeyRecord): PublicKey {
  return {
    id: k.id,
    name: k.name,
    role: k.role,
    hint: k.hint,
    created_at: k.created_at,
    created_by: k.created_by,
    revoked_at: k.revoked_at,
  };
}

export class KeysService {
  private readonly deps: ServiceDeps;
  private readonly principals: PrincipalCache;
  constructor(deps: ServiceDeps) {
    this.deps = deps;
    this.principals = new PrincipalCache(() => deps.clock.now());
    deps.store.changes.subscribe(KEYS_SUBJECT, () => this.principals.clear());
  }

  /** Creates a key; the secret is returned once and only its hash is stored. */
  async create(
    input: { role: Role; name: string; secret?: string },
    by: Principal | null,
  ): Promise<{ key: PublicKey; secret: string }> {
    const secret = input.secret ?? generateKeySecret(input.role, this.deps.random);
    if (!looksLikeKeySecret(secret) || !secret.startsWith(`cs_${input.role}_`)) {
      throw new ValidationError(
        `a ${input.role} key must look like cs_${input.role}_ followed by 32+ characters`,
        [{ path: "/secret", message: "malformed key secret" }],
      );
    }
    const at = new Date(this.deps.clock.now()).toISOString();
    const record: KeyRecord = {
      id: this.deps.ids.next("key"),
      name: input.name,
      role: input.role,
      secret_hash: hashKeySecret(secret),
      hint: keyHint(secret),
      created_at: at,
      created_by: by?.key_id ?? null,
      revoked_at: null,
    };
    await this.deps.store.write(async (ctx) => {
      await insertKey(ctx.db, record);
      await ctx.appendAudit([
        {
          at,
          kind: "key.created",
          subject_id: record.id,
          correlation_id: null,
          actor: by ? principalActor(by) : SYSTEM_ACTOR,
          data: { name: record.name, role: record.role, hint: record.hint },
        },
      ]);
    });
    return { key: publicKey(record), secret };
  }

  /** Creates the first admin key if none exists; returns its secret, or null if an admin already exists. */
  async ensureAdmin(secret?: string): Promise<string | null> {
    if ((await countActiveAdmins(this.deps.store.db)) > 0) return null;
    const created = await this.create(
      { role: "admin", name: "bootstrap admin", ...(secret ? { secret } : {}) },
      null,
    );
    return created.secret;
  }

  /** The principal a key secret was found to belong to within the last second, if any. */
  cachedPrincipal(secret: string): Principal | undefined {
    return looksLikeKeySecret(secret) ? this.principals.get(hashKeySecret(secret)) : undefined;
  }

  async authenticate(secret: string): Promise<Principal | undefined> {
    if (!looksLikeKeySecret(secret)) return undefined;
    const hash = hashKeySecret(secret);
    const cached = this.principals.get(hash);
    if (cached) return cached;
    const key = await findKeyBySecretHash(this.deps.store.db, hash);
    // The lookup is by hash of a 256-bit secret; compare again in constant time all the same.
    if (!key || key.revoked_at !== null) return undefined;
    if (!timingSafeEqual(Buffer.from(key.secret_hash), Buffer.from(hash))) return undefined;
    // Frozen: the same object now answers many requests.
    const principal: Principal = Object.freeze({ key_id: key.id, name: key.name, role: key.role });
    this.principals.set(hash, principal);
    return principal;
  }

  async list(includeRevoked: boolean): Promise<PublicKey[]> {
    return (await listKeys(this.deps.store.db, { includeRevoked })).map(publicKey);
  }

  async revoke(id: string, by: Principal): Promise<PublicKey> {
    const at = new Date(this.deps.clock.now()).toISOString();
    await this.deps.store.write(async (ctx) => {
      const key = await getKey(ctx.db, id);
      if (!key) throw new NotFoundError(`no key ${id}`);
      if (key.role === "admin" && key.revoked_at === null && (await countActiveAdmins(ctx.db)) <= 1) {
        throw new ConflictError("last_admin", "the last active admin key cannot be revoked");
      }
      if (!(await revokeKey(ctx.db, id, at)))
        throw new ConflictError("already_revoked", `key ${id} is already revoked`);
      await ctx.appendAudit([
        {
          at,
          kind: "key.revoked",
          subject_id: id,
          correlation_id: null,
          actor: principalActor(by),
          data: { name: key.name, role: key.role },
        },
      ]);
      // Every process and replica forgets the principals it remembered once this commits.
      ctx.changed(KEYS_SUBJECT);
    });
    const key = await getKey(this.deps.store.db, id);
    if (!key) throw new NotFoundError(`no key ${id}`);
    return publicKey(key);
  }
}
