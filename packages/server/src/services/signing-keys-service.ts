import {
  activeSigningKey,
  DEFAULT_CLOCK_SKEW_SECONDS,
  generateSigningKey,
  isoAt,
  type Jwks,
  jwksFromKeys,
  type Principal,
  type PublishedSigningKey,
  principalActor,
  pruneSigningKeys,
  retireSigningKey,
  rotateSigningKeys,
  SigningKeyError,
  type SigningKeyRecord,
  SYSTEM_ACTOR,
} from "@countersign/core";
import {
  insertSigningKey,
  isPlaintextSigningKeyRow,
  listSigningKeyRows,
  publishedKeyFromRow,
  retireSigningKeyRow,
  retireUnreadableSigningKeyRow,
  type SigningKeyRow,
  sealSigningKeyRow,
  signingKeyExists,
  signingKeyFromRow,
} from "../repos/signing-keys-repo.ts";
import type { SecretBox } from "../webhooks/secrets.ts";
import { PeriodicWorker } from "../workers/periodic.ts";
import type { ServiceDeps } from "./deps.ts";
import { SharedSecretBox } from "./secret-box.ts";

/** The change-bus subject a keyring change is announced under (to every replica on PostgreSQL). */
export const SIGNING_KEYS_SUBJECT = "signing_keys";
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 3600;
const DEFAULT_REFRESH_INTERVAL_MS = 30_000;

export interface SigningKeysOptions {
  /** The longest `exp - iat` of any token signed; a retired key stays published at least this long. */
  maxTokenLifetimeSeconds?: number;
  /** How often the keyring is re-read, in case a change signal from another replica was missed. */
  refreshIntervalMs?: number;
  clockSkewSeconds?: number;
  /**
   * The box private keys are sealed in: the server's shared one (opened with its key options).
   * Without it the service opens its own from `COUNTERSIGN_SECRET_KEY` or the settings table.
   */
  secretBox?: SharedSecretBox;
}

export interface Rotation {
  /** The key that signs from now on. */
  kid: string;
  /** The keys it replaced; still published until their last tokens have expired. */
  retired: string[];
}

/**
 * The Ed25519 keys that sign approval tokens, kept in memory so signing and verifying never wait
 * on the database. The database is the truth shared by replicas: a rotation is written there
 * under the write lock and announced on the change bus, and every replica merges what it reads.
 *
 * A replica can sign with a key another replica has just retired until it hears of the rotation
 * (at most one refresh interval). Retired keys therefore stay in the JWKS for the token lifetime
 * plus that interval (plus clock skew), so such tokens keep verifying for their whole life.
 *
 * Private keys are stored sealed in the secret box (bound to their kid); records an earlier version
 * stored in plain text are still read, and sealed on the next start (`signing_key.sealed`).
 */
export class SigningKeysService {
  readonly maxTokenLifetimeSeconds: number;
  readonly clockSkewSeconds: number;
  private readonly deps: ServiceDeps;
  private readonly refreshIntervalMs: number;
  private readonly secretBox: SharedSecretBox;
  /** Every key loaded, public parts: what the JWKS publishes. */
  private readonly byKid = new Map<string, PublishedSigningKey>();
  /** The keys that still sign, with their private halves (only these are ever unsealed). */
  private readonly signers = new Map<string, SigningKeyRecord>();
  private active: SigningKeyRecord | undefined;
  private inFlight: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private refresher: PeriodicWorker | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(deps: ServiceDeps, options: SigningKeysOptions = {}) {
    this.deps = deps;
    this.maxTokenLifetimeSeconds = options.maxTokenLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS;
    this.refreshIntervalMs = options.refreshIntervalMs ?? DEFAULT_REFRESH_INTERVAL_MS;
    this.clockSkewSeconds = options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
    this.secretBox = options.secretBox ?? new SharedSecretBox(deps);
    for (const [name, value] of [
      ["maxTokenLifetimeSeconds", this.maxTokenLifetimeSeconds],
      ["refreshIntervalMs", this.refreshIntervalMs],
      ["clockSkewSeconds", this.clockSkewSeconds],
    ] as const) {
      if (!Number.isSafeInteger(value) || value <= 0) {
        throw new RangeError(`${name} must be a positive integer, got ${value}`);
      }
    }
  }

  /**
   * Loads the keyring (creating the first key if there is none), then keeps it current: on every
   * keyring change signal, and every refresh interval in case a signal was lost.
   */
  async start(onRefreshError: (error: unknown) => void = () => {}): Promise<void> {
    await this.ensureActiveKey();
    this.unsubscribe ??= this.deps.store.changes.subscribe(SIGNING_KEYS_SUBJECT, () => {
      this.reload().catch(onRefreshError);
    });
    if (this.refresher === undefined) {
      this.refresher = new PeriodicWorker({
        name: "signing-keys",
        intervalMs: this.refreshIntervalMs,
        tick: async () => {
          await this.reload();
          return false;
        },
        onError: onRefreshError,
      });
      this.refresher.start();
    }
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.refresher?.stop();
    this.refresher = undefined;
  }

  /**
   * Loads the stored keys, seals any an earlier version stored in plain text, and, if none may
   * sign, creates one (audited as `signing_key.created`).
   */
  async ensureActiveKey(): Promise<SigningKeyRecord> {
    const box = await this.secretBox.open();
    const stored = await listSigningKeyRows(this.deps.store.db);
    this.learn(box, stored);
    if (stored.some(isPlaintextSigningKeyRow)) await this.sealPlaintextKeys(box);
    if (this.active !== undefined) return this.active;
    const { rows, created } = await this.deps.store.write(async (ctx) => {
      // Read again under the write lock: a replica starting at the same moment may have made one.
      const current = await listSigningKeyRows(ctx.db);
      if (current.some((row) => row.retired_at === null)) return { rows: current, created: undefined };
      const at = isoAt(this.deps.clock.now());
      const key = generateSigningKey(this.newKid(), at);
      await insertSigningKey(ctx.db, key, box);
      await ctx.appendAudit([
        {
          at,
          kind: "signing_key.created",
          subject_id: key.kid,
          correlation_id: null,
          actor: SYSTEM_ACTOR,
          data: { kid: key.kid, public_jwk: key.public_jwk },
        },
      ]);
      ctx.changed(SIGNING_KEYS_SUBJECT);
      return { rows: current, created: key };
    });
    this.learn(box, rows, created ? [created] : []);
    return this.activeKey();
  }

  /** The key new tokens are signed with. */
  activeKey(): SigningKeyRecord {
    if (this.active === undefined) {
      throw new SigningKeyError("no active signing key is loaded; the server must call start() first");
    }
    return this.active;
  }

  /** The public keys to publish: the active key and retired keys whose tokens may still be live. */
  jwks(): Jwks {
    const publishedFor = this.maxTokenLifetimeSeconds + Math.ceil(this.refreshIntervalMs / 1000);
    return jwksFromKeys(
      pruneSigningKeys([...this.byKid.values()], this.deps.clock.now(), publishedFor, this.clockSkewSeconds),
    );
  }

  /** A new key takes over signing; every key active until now is retired (`signing_key.rotated`). */
  async rotate(by: Principal): Promise<Rotation> {
    const at = isoAt(this.deps.clock.now());
    const next = generateSigningKey(this.newKid(), at);
    const box = await this.secretBox.open();
    const { rows, retired } = await this.deps.store.write(async (ctx) => {
      // Rotate what is stored, not what this replica has cached: another may have rotated since.
      const current = await listSigningKeyRows(ctx.db);
      const active = current
        .filter((row) => row.retired_at === null)
        .map((row) => this.signers.get(row.kid) ?? signingKeyFromRow(row, box));
      const retiredKeys = rotateSigningKeys(active, next, at).filter((key) => key.kid !== next.kid);
      for (const key of retiredKeys) await retireSigningKeyRow(ctx.db, key, box);
      await insertSigningKey(ctx.db, next, box);
      await ctx.appendAudit([
        {
          at,
          kind: "signing_key.rotated",
          subject_id: next.kid,
          correlation_id: null,
          actor: principalActor(by),
          data: { kid: next.kid, public_jwk: next.public_jwk, retired: retiredKeys.map((key) => key.kid) },
        },
      ]);
      ctx.changed(SIGNING_KEYS_SUBJECT);
      return { rows: current, retired: retiredKeys };
    });
    this.learn(box, rows, [...retired, next]);
    return { kid: next.kid, retired: retired.map((key) => key.kid) };
  }

  /**
   * Re-reads the keyring. The promise settles after a read that began after the call, so a caller
   * that knows of a newer key will see it; concurrent callers share reads.
   */
  reload(): Promise<void> {
    if (this.queued) return this.queued;
    if (this.inFlight === undefined) {
      this.inFlight = this.secretBox
        .open()
        .then(async (box) => this.learn(box, await listSigningKeyRows(this.deps.store.db)))
        .finally(() => {
          this.inFlight = undefined;
        });
      return this.inFlight;
    }
    this.queued = this.inFlight
      .catch(() => {})
      .then(() => {
        this.queued = undefined;
        return this.reload();
      });
    return this.queued;
  }

  /**
   * Makes sure a key stored under `kid` is known here, for a token signed on another replica
   * after a rotation this one has not heard of yet. True if the key had to be loaded. A kid that
   * is stored nowhere costs one primary-key lookup, like authenticating the caller did.
   */
  async resolve(kid: string): Promise<boolean> {
    if (this.byKid.has(kid)) return false;
    if (!(await signingKeyExists(this.deps.store.db, kid))) return false;
    await this.reload();
    return this.byKid.has(kid);
  }

  /**
   * Merges stored rows and freshly written keys into the keyring. Keys only ever appear and retire,
   * so a read that raced with a rotation can never bring a retired key back to signing.
   */
  private learn(box: SecretBox, rows: SigningKeyRow[], written: SigningKeyRecord[] = []): void {
    for (const row of rows) {
      const known = this.byKid.get(row.kid);
      if (known === undefined) {
        // Only a key that signs needs its private half; opening and parsing imports and checks it,
        // once per key. A retired one is read without it, so a key sealed under a secret key since
        // lost (and then retired, see recoverUnreadable) no longer stops the keyring from loading.
        this.remember(row.retired_at === null ? this.openSigner(row, box) : publishedKeyFromRow(row));
      } else if (row.retired_at !== null) {
        this.remember(retireSigningKey(known, row.retired_at));
      }
    }
    for (const key of written) this.remember(key);
    const signing = [...this.signers.values()];
    this.active = signing.length > 0 ? activeSigningKey(signing) : undefined;
  }

  private openSigner(row: SigningKeyRow, box: SecretBox): SigningKeyRecord {
    try {
      return signingKeyFromRow(row, box);
    } catch (error) {
      if (!(error instanceof SigningKeyError)) throw error;
      throw new SigningKeyError(
        `${error.message}. Start with the secret key it was sealed with; if that key is lost, ` +
          "`countersign secrets recover --apply` retires this key (tokens it signed keep verifying) " +
          "and the next start makes a new one",
      );
    }
  }

  /**
   * Active keys whose private half cannot be opened with the current secret key (it was lost, or
   * `COUNTERSIGN_SECRET_KEY` changed). With `apply`, retires them, one `signing_key.retired_unreadable`
   * audit entry each: their public halves stay published for the tokens they signed, and the next
   * start creates a fresh key. Nothing else is changed; nothing is deleted.
   */
  async recoverUnreadable(apply: boolean): Promise<Array<{ kid: string; reason: string; retired: boolean }>> {
    const box = await this.secretBox.open();
    const unreadable: Array<{ kid: string; reason: string }> = [];
    for (const row of await listSigningKeyRows(this.deps.store.db)) {
      if (row.retired_at !== null) continue;
      try {
        signingKeyFromRow(row, box);
      } catch (error) {
        if (!(error instanceof SigningKeyError)) throw error;
        unreadable.push({ kid: row.kid, reason: error.message });
      }
    }
    if (!apply || unreadable.length === 0) return unreadable.map((key) => ({ ...key, retired: false }));
    const retired = await this.deps.store.write(async (ctx) => {
      const at = isoAt(this.deps.clock.now());
      const done: string[] = [];
      for (const key of unreadable) {
        if (!(await retireUnreadableSigningKeyRow(ctx.db, key.kid, at))) continue;
        done.push(key.kid);
        await ctx.appendAudit([
          {
            at,
            kind: "signing_key.retired_unreadable",
            subject_id: key.kid,
            correlation_id: null,
            actor: SYSTEM_ACTOR,
            data: { kid: key.kid, reason: key.reason },
          },
        ]);
      }
      if (done.length > 0) ctx.changed(SIGNING_KEYS_SUBJECT);
      return done;
    });
    return unreadable.map((key) => ({ ...key, retired: retired.includes(key.kid) }));
  }

  /**
   * Seals the private keys of records an earlier version stored in plain text, one audit entry
   * (`signing_key.sealed`, public parts only) per key. Read again under the write lock, so replicas
   * starting at once seal each record once.
   */
  private async sealPlaintextKeys(box: SecretBox): Promise<void> {
    await this.deps.store.write(async (ctx) => {
      const at = isoAt(this.deps.clock.now());
      for (const row of (await listSigningKeyRows(ctx.db)).filter(isPlaintextSigningKeyRow)) {
        const key = signingKeyFromRow(row, box);
        if (!(await sealSigningKeyRow(ctx.db, row, key, box))) continue;
        await ctx.appendAudit([
          {
            at,
            kind: "signing_key.sealed",
            subject_id: key.kid,
            correlation_id: null,
            actor: SYSTEM_ACTOR,
            data: { kid: key.kid, public_jwk: key.public_jwk },
          },
        ]);
      }
    });
  }

  private remember(key: PublishedSigningKey | SigningKeyRecord): void {
    const known = this.byKid.get(key.kid);
    if (known !== undefined && (known.retired_at !== null || key.retired_at === null)) return;
    this.byKid.set(key.kid, key);
    if (key.retired_at === null && "private_jwk" in key) this.signers.set(key.kid, key);
    else this.signers.delete(key.kid);
  }

  /** `sig_…`: core's id prefixes name stored resources, so a kid reuses the time-sortable body. */
  private newKid(): string {
    return this.deps.ids.next("sig");
  }
}
