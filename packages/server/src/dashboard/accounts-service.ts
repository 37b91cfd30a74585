import {
  type AuditDraft,
  ConflictError,
  NotFoundError,
  type Principal,
  principalActor,
  sha256Hex,
  ValidationError,
} from "@countersign/core";
import { insertKey } from "../repos/keys-repo.ts";
import type { ServiceDeps } from "../services/deps.ts";
import { AccountAdministration } from "./account-admin.ts";
import {
  type AccountRecord,
  findAccountByEmail,
  findInviteByTokenHash,
  getInvite,
  type InviteRecord,
  insertAccount,
  insertInvite,
  listAccounts,
  listOpenInvites,
  markInviteAccepted,
  revokeInvite,
  revokeOpenInvitesFor,
  setPassword,
} from "./accounts-repo.ts";
import type { DashboardOptions } from "./config.ts";
import { InviteInvalidError } from "./errors.ts";
import { hashPassword, passwordProblem } from "./passwords.ts";
import { revokeAccountSessions } from "./sessions-repo.ts";
import {
  type AuthenticatedSession,
  accountPrincipal,
  type ClientMeta,
  type SessionsService,
} from "./sessions-service.ts";

export type AccountRole = "admin" | "reviewer";

export interface PublicAccount {
  id: string;
  email: string;
  name: string | null;
  role: AccountRole;
  /** The key record the account acts as: its id is what reviews and audit entries name. */
  key_id: string;
  created_at: string;
  created_by: string | null;
  password_set_at: string;
  disabled_at: string | null;
}

export interface PublicInvite {
  id: string;
  email: string;
  name: string | null;
  role: AccountRole;
  /** `new_account`, or `password_reset` when the email already has an account. */
  purpose: "new_account" | "password_reset";
  created_at: string;
  created_by: string;
  expires_at: string;
  accepted_at: string | null;
  revoked_at: string | null;
}

export function publicAccount(a: AccountRecord): PublicAccount {
  return {
    id: a.id,
    email: a.email,
    name: a.name,
    role: a.role,
    key_id: a.key_id,
    created_at: a.created_at,
    created_by: a.created_by,
    password_set_at: a.password_set_at,
    disabled_at: a.disabled_at,
  };
}

function publicInvite(i: InviteRecord, purpose: PublicInvite["purpose"]): PublicInvite {
  return {
    id: i.id,
    email: i.email,
    name: i.name,
    role: i.role,
    purpose,
    created_at: i.created_at,
    created_by: i.created_by,
    expires_at: i.expires_at,
    accepted_at: i.accepted_at,
    revoked_at: i.revoked_at,
  };
}

const EMAIL = /^[^\s@]+@[^\s@]+$/;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

export function normaliseEmail(email: string): string {
  const value = email.trim().toLowerCase();
  if (!EMAIL.test(value) || value.length > 254) {
    throw new ValidationError("that is not an email address", [
      { path: "/email", message: "not an email address" },
    ]);
  }
  return value;
}

/**
 * People who sign in to the dashboard. An admin invites an email with a role; the invite is a
 * one-time link (random token, stored hashed, expiring) where the invitee sets a password. Inviting
 * an email that already has an account makes a password-reset link. Each account acts through its
 * own key record, so reviews, audit entries and permissions treat it exactly like a key.
 */
export class AccountsService {
  private readonly deps: ServiceDeps;
  private readonly options: DashboardOptions;
  private readonly sessions: SessionsService;
  private readonly admin: AccountAdministration;

  constructor(deps: ServiceDeps, options: DashboardOptions, sessions: SessionsService) {
    this.deps = deps;
    this.options = options;
    this.sessions = sessions;
    this.admin = new AccountAdministration(deps);
  }

  private iso(ms = this.deps.clock.now()): string {
    return new Date(ms).toISOString();
  }

  async invite(
    by: Principal,
    input: { email: string; role: AccountRole; name?: string; ttl_seconds?: number },
  ): Promise<{ invite: PublicInvite; token: string }> {
    const email = normaliseEmail(input.email);
    const now = this.deps.clock.now();
    const token = Buffer.from(this.deps.random.bytes(32)).toString("base64url");
    const record: InviteRecord = {
      id: this.deps.ids.next("inv"),
      email,
      name: input.name?.trim() || null,
      role: input.role,
      token_hash: sha256Hex(token),
      created_at: this.iso(now),
      created_by: by.key_id,
      expires_at: this.iso(now + (input.ttl_seconds ? input.ttl_seconds * 1000 : this.options.inviteTtlMs)),
      accepted_at: null,
      account_id: null,
      revoked_at: null,
    };
    const purpose = await this.deps.store.write(async (ctx) => {
      const existing = await findAccountByEmail(ctx.db, email);
      if (existing?.disabled_at)
        throw new ConflictError(
          "account_disabled",
          `the account of ${email} is disabled; enable it first (POST /v1/accounts/${existing.id}/enable)`,
        );
      if (existing && existing.role !== input.role) {
        throw new ConflictError(
          "account_exists",
          `${email} already has a ${existing.role} account; a password-reset invite must keep that role ` +
            `(change it with PATCH /v1/accounts/${existing.id})`,
        );
      }
      // Only the newest link for an email works.
      await revokeOpenInvitesFor(ctx.db, email, record.created_at);
      await insertInvite(ctx.db, record);
      const purpose: PublicInvite["purpose"] = existing ? "password_reset" : "new_account";
      await ctx.appendAudit([
        {
          at: record.created_at,
          kind: "invite.created",
          subject_id: record.id,
          correlation_id: null,
          actor: principalActor(by),
          data: { email, role: record.role, purpose, expires_at: record.expires_at },
        },
      ]);
      return purpose;
    });
    return { invite: publicInvite(record, purpose), token };
  }

  private async usableInvite(token: string): Promise<InviteRecord> {
    const invite = TOKEN.test(token)
      ? await findInviteByTokenHash(this.deps.store.db, sha256Hex(token))
      : undefined;
    if (!invite) throw new InviteInvalidError("this invite link is not valid; ask an admin for a new one");
    if (invite.accepted_at) throw new InviteInvalidError("this invite link has already been used");
    if (invite.revoked_at)
      throw new InviteInvalidError("this invite link was withdrawn; ask an admin for a new one");
    if (this.deps.clock.now() >= Date.parse(invite.expires_at)) {
      throw new InviteInvalidError("this invite link has expired; ask an admin for a new one");
    }
    return invite;
  }

  /** What an invite link is for, so the page can greet the invitee before they choose a password. */
  async preview(token: string, ip: string): Promise<PublicInvite> {
    this.sessions.checkRate(ip);
    const invite = await this.usableInvite(token);
    const existing = await findAccountByEmail(this.deps.store.db, invite.email);
    return publicInvite(invite, existing ? "password_reset" : "new_account");
  }

  /** Sets the password (creating the account, or resetting it) and signs the invitee in. */
  async accept(
    input: { token: string; password: string; name?: string },
    meta: ClientMeta,
  ): Promise<{ token: string; session: AuthenticatedSession }> {
    this.sessions.checkRate(meta.ip);
    const invite = await this.usableInvite(input.token);
    const problem = passwordProblem(input.password, invite.email);
    if (problem) throw new ValidationError(problem, [{ path: "/password", message: problem }]);
    // Hash before the transaction: scrypt is deliberately slow and must not hold the writer.
    const passwordHash = await hashPassword(input.password);
    const at = this.iso();
    return this.deps.store.write(async (ctx) => {
      const audit: AuditDraft[] = [];
      let account = await findAccountByEmail(ctx.db, invite.email);
      if (account) {
        if (account.disabled_at) throw new InviteInvalidError("this account is disabled");
        await setPassword(ctx.db, account.id, passwordHash, at);
        const ended = await revokeAccountSessions(ctx.db, account.id, at);
        account = { ...account, password_hash: passwordHash, password_set_at: at };
        audit.push({
          at,
          kind: "account.password_set",
          subject_id: account.id,
          correlation_id: null,
          actor: principalActor(accountPrincipal(account)),
          data: { email: account.email, invite_id: invite.id, sessions_revoked: ended.length },
        });
      } else {
        account = await this.createAccount(ctx.db, invite, passwordHash, input.name, at);
        const data = {
          email: account.email,
          role: account.role,
          key_id: account.key_id,
          invite_id: invite.id,
        };
        const actor = principalActor(accountPrincipal(account));
        audit.push(
          {
            at,
            kind: "key.created",
            subject_id: account.key_id,
            correlation_id: null,
            actor,
            data: {
              name: account.email,
              role: account.role,
              hint: "dashboard account",
              account_id: account.id,
            },
          },
          { at, kind: "account.created", subject_id: account.id, correlation_id: null, actor, data },
        );
      }
      if (!(await markInviteAccepted(ctx.db, invite.id, account.id, at))) {
        throw new InviteInvalidError("this invite link has already been used");
      }
      await ctx.appendAudit(audit);
      return this.sessions.createInTx(ctx, account, meta);
    });
  }

  private async createAccount(
    db: Parameters<typeof insertKey>[0],
    invite: InviteRecord,
    passwordHash: string,
    name: string | undefined,
    at: string,
  ): Promise<AccountRecord> {
    const keyId = this.deps.ids.next("key");
    // The key's secret is random and never shown: the account can only act through its sessions.
    const unusableSecret = Buffer.from(this.deps.random.bytes(32)).toString("base64url");
    await insertKey(db, {
      id: keyId,
      name: invite.email,
      role: invite.role,
      secret_hash: sha256Hex(`account:${unusableSecret}`),
      hint: "dashboard account",
      created_at: at,
      created_by: invite.created_by,
      revoked_at: null,
    });
    const account: AccountRecord = {
      id: this.deps.ids.next("usr"),
      email: invite.email,
      name: name?.trim() || invite.name,
      role: invite.role,
      key_id: keyId,
      password_hash: passwordHash,
      password_set_at: at,
      created_at: at,
      created_by: invite.created_by,
      disabled_at: null,
    };
    await insertAccount(db, account);
    return account;
  }

  async list(): Promise<PublicAccount[]> {
    return (await listAccounts(this.deps.store.db)).map(publicAccount);
  }

  async listInvites(): Promise<PublicInvite[]> {
    const db = this.deps.store.db;
    const invites = await listOpenInvites(db, this.iso());
    const emails = new Set((await listAccounts(db)).map((a) => a.email));
    return invites.map((i) => publicInvite(i, emails.has(i.email) ? "password_reset" : "new_account"));
  }

  async revokeInvite(by: Principal, id: string): Promise<void> {
    const at = this.iso();
    await this.deps.store.write(async (ctx) => {
      const invite = await getInvite(ctx.db, id);
      if (!invite) throw new NotFoundError(`no invite ${id}`);
      if (!(await revokeInvite(ctx.db, id, at))) {
        throw new ConflictError("invite_closed", `invite ${id} was already used or withdrawn`);
      }
      await ctx.appendAudit([
        {
          at,
          kind: "invite.revoked",
          subject_id: id,
          correlation_id: null,
          actor: principalActor(by),
          data: { email: invite.email },
        },
      ]);
    });
  }

  /** Disables an account: its key is revoked and every session ends at once. */
  async disable(by: Principal, id: string): Promise<PublicAccount> {
    return publicAccount(await this.admin.disable(by, id));
  }

  /** Enables a disabled account again, with its own key. */
  async enable(by: Principal, id: string): Promise<PublicAccount> {
    return publicAccount(await this.admin.enable(by, id));
  }

  /** Gives an account another role (the last active admin keeps theirs). */
  async setRole(by: Principal, id: string, role: AccountRole): Promise<PublicAccount> {
    return publicAccount(await this.admin.setRole(by, id, role));
  }
}
