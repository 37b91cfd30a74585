import {
  type AuditDraft,
  ConflictError,
  NotFoundError,
  type Principal,
  principalActor,
} from "@countersign/core";
import { countActiveAdmins, getKey, restoreKey, revokeKey, setKeyRole } from "../repos/keys-repo.ts";
import type { ServiceDeps } from "../services/deps.ts";
import { KEYS_SUBJECT } from "../services/principal-cache.ts";
import type { WriteContext } from "../storage/store.ts";
import {
  type AccountRecord,
  disableAccount,
  enableAccount,
  getAccount,
  setAccountRole,
} from "./accounts-repo.ts";
import type { AccountRole } from "./accounts-service.ts";
import { revokeAccountSessions } from "./sessions-repo.ts";

/**
 * What an admin changes about an existing account: disabling it, enabling it again, its role.
 * The account acts through its own key record, so each change is made to both, audited for both,
 * and announced on the change bus (cached principals carry the key's role). The last active admin
 * can be neither disabled nor demoted.
 */
export class AccountAdministration {
  private readonly deps: ServiceDeps;

  constructor(deps: ServiceDeps) {
    this.deps = deps;
  }

  /** Disables an account: its key is revoked and every session ends at once. */
  async disable(by: Principal, id: string): Promise<AccountRecord> {
    return this.change(id, async (ctx, account, at) => {
      if (account.role === "admin" && (await countActiveAdmins(ctx.db)) <= 1) {
        throw new ConflictError("last_admin", "the last active admin cannot be disabled");
      }
      if (!(await disableAccount(ctx.db, id, at))) {
        throw new ConflictError("already_disabled", `account ${id} is already disabled`);
      }
      await revokeKey(ctx.db, account.key_id, at);
      const ended = await revokeAccountSessions(ctx.db, id, at);
      await ctx.appendAudit([
        {
          at,
          kind: "key.revoked",
          subject_id: account.key_id,
          correlation_id: null,
          actor: principalActor(by),
          data: { name: account.email, role: account.role, account_id: id },
        },
        {
          at,
          kind: "account.disabled",
          subject_id: id,
          correlation_id: null,
          actor: principalActor(by),
          data: { email: account.email, key_id: account.key_id, sessions_revoked: ended.length },
        },
      ]);
    });
  }

  /**
   * Enables a disabled account again (or one whose key was revoked through the keys API): its own
   * key becomes active again, so reviews and audit entries keep naming the same key. Its sessions
   * ended when it was disabled; its person signs in again with the same password.
   */
  async enable(by: Principal, id: string): Promise<AccountRecord> {
    return this.change(id, async (ctx, account, at) => {
      const key = await getKey(ctx.db, account.key_id);
      if (account.disabled_at === null && key?.revoked_at === null) {
        throw new ConflictError("already_enabled", `account ${id} is not disabled`);
      }
      await enableAccount(ctx.db, id);
      const audit: AuditDraft[] = [];
      if (await restoreKey(ctx.db, account.key_id)) {
        audit.push({
          at,
          kind: "key.restored",
          subject_id: account.key_id,
          correlation_id: null,
          actor: principalActor(by),
          data: { name: account.email, role: account.role, account_id: id },
        });
      }
      audit.push({
        at,
        kind: "account.enabled",
        subject_id: id,
        correlation_id: null,
        actor: principalActor(by),
        data: { email: account.email, key_id: account.key_id },
      });
      await ctx.appendAudit(audit);
    });
  }

  /** Gives an account (and its key) another role; effective at its next request. */
  async setRole(by: Principal, id: string, role: AccountRole): Promise<AccountRecord> {
    return this.change(id, async (ctx, account, at) => {
      if (account.role === role) return;
      const key = await getKey(ctx.db, account.key_id);
      const activeAdmin =
        account.role === "admin" && account.disabled_at === null && key?.revoked_at === null;
      if (activeAdmin && (await countActiveAdmins(ctx.db)) <= 1) {
        throw new ConflictError("last_admin", "the last active admin cannot be given another role");
      }
      await setAccountRole(ctx.db, id, role);
      await setKeyRole(ctx.db, account.key_id, role);
      await ctx.appendAudit([
        {
          at,
          kind: "account.role_changed",
          subject_id: id,
          correlation_id: null,
          actor: principalActor(by),
          data: { email: account.email, key_id: account.key_id, from: account.role, to: role },
        },
      ]);
    });
  }

  /** Runs one change to an existing account in a write, announces it, and returns the account after. */
  private async change(
    id: string,
    apply: (ctx: WriteContext, account: AccountRecord, at: string) => Promise<void>,
  ): Promise<AccountRecord> {
    const at = new Date(this.deps.clock.now()).toISOString();
    return this.deps.store.write(async (ctx) => {
      const account = await getAccount(ctx.db, id);
      if (!account) throw new NotFoundError(`no account ${id}`);
      await apply(ctx, account, at);
      ctx.changed(KEYS_SUBJECT);
      const after = await getAccount(ctx.db, id);
      if (!after) throw new NotFoundError(`no account ${id}`);
      return after;
    });
  }
}
