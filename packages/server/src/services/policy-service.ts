import { readFile } from "node:fs/promises";
import {
  type CompiledPolicy,
  compilePolicy,
  type Principal,
  principalActor,
  SYSTEM_ACTOR,
} from "@countersign/core";
import { getSetting, putSetting } from "../repos/settings-repo.ts";
import type { ServiceDeps } from "./deps.ts";

/**
 * Used when no policy was ever configured: nothing runs without a human, which is safe and still
 * lets a new installation be tried out end to end.
 */
export const BUILT_IN_POLICY = `version: 1
default:
  decision: approval_required
  reason: "no policy is configured, so every governed call needs a human"
`;

const ACTIVE = "active_policy";
/** Change-bus subject that tells every replica to reload the policy in force. */
export const POLICY_SUBJECT = "policy:active";

export interface PolicyInfo {
  version: string;
  source: string;
  rules: CompiledPolicy["rules"];
  budgets: CompiledPolicy["budgets"];
  origin: "built-in" | "stored";
}

/**
 * Holds the compiled policy in force. Compiling happens once per version, when a policy is put
 * or (re)loaded, never while evaluating a call. A broken policy is rejected whole and the one in
 * force stays.
 */
export class PolicyService {
  private readonly deps: ServiceDeps;
  private policy: CompiledPolicy = compilePolicy(BUILT_IN_POLICY);
  private origin: PolicyInfo["origin"] = "built-in";
  private readonly unsubscribe: () => void;

  constructor(deps: ServiceDeps) {
    this.deps = deps;
    // Another replica put a new policy: load it from the database.
    this.unsubscribe = deps.store.changes.subscribe(POLICY_SUBJECT, () => void this.reload().catch(() => {}));
  }

  /** Start-up: a `--policy` file wins (and becomes the stored policy); otherwise the stored one. */
  async init(policyFile: string | undefined): Promise<void> {
    if (policyFile) {
      const source = await readFile(policyFile, "utf8");
      const compiled = compilePolicy(source);
      if (compiled.version !== (await getSetting(this.deps.store.db, ACTIVE))) {
        await this.activate(compiled, null, `loaded from ${policyFile}`);
      }
      this.use(compiled, "stored");
      return;
    }
    await this.reload();
  }

  current(): CompiledPolicy {
    return this.policy;
  }

  info(): PolicyInfo {
    const p = this.policy;
    return { version: p.version, source: p.source, rules: p.rules, budgets: p.budgets, origin: this.origin };
  }

  /** Validates and puts a policy in force; throws `PolicyError` (with line numbers) if it is broken. */
  async put(source: string, by: Principal): Promise<PolicyInfo> {
    const compiled = compilePolicy(source);
    if (compiled.version !== this.policy.version || this.origin === "built-in") {
      await this.activate(compiled, by, "put through the API");
    }
    this.use(compiled, "stored");
    return this.info();
  }

  async reload(): Promise<void> {
    const version = await getSetting(this.deps.store.db, ACTIVE);
    if (!version || version === this.policy.version) return;
    const row = await this.deps.store.db
      .selectFrom("policies")
      .select("source")
      .where("version", "=", version)
      .executeTakeFirst();
    if (row) this.use(compilePolicy(row.source), "stored");
  }

  close(): void {
    this.unsubscribe();
  }

  private use(compiled: CompiledPolicy, origin: PolicyInfo["origin"]): void {
    this.policy = compiled;
    this.origin = origin;
  }

  private async activate(compiled: CompiledPolicy, by: Principal | null, how: string): Promise<void> {
    const at = new Date(this.deps.clock.now()).toISOString();
    const previous = this.policy.version;
    await this.deps.store.write(async (ctx) => {
      await ctx.db
        .insertInto("policies")
        .values({
          version: compiled.version,
          source: compiled.source,
          created_at: at,
          created_by: by?.key_id ?? null,
        })
        .onConflict((oc) => oc.column("version").doNothing())
        .execute();
      await putSetting(ctx.db, ACTIVE, compiled.version, at);
      await ctx.appendAudit([
        {
          at,
          kind: "policy.changed",
          subject_id: compiled.version,
          correlation_id: null,
          actor: by ? principalActor(by) : SYSTEM_ACTOR,
          data: { version: compiled.version, previous_version: previous, rules: compiled.rules.length, how },
        },
      ]);
      ctx.changed(POLICY_SUBJECT);
    });
  }
}
