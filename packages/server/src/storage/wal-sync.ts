import { closeSync, fdatasync, fsyncSync, openSync } from "node:fs";
import { dirname } from "node:path";

/**
 * Makes SQLite commits durable without blocking the event loop.
 *
 * With `synchronous=FULL` SQLite fsyncs the write-ahead log inside COMMIT, and node:sqlite runs
 * COMMIT on the main thread: for the whole fsync no request was parsed, authenticated or answered
 * (measured: an eighth of the server's time under load). The writer connection therefore runs with
 * `synchronous=NORMAL` (COMMIT only write()s the WAL frames; SQLite still syncs around
 * checkpoints) and this class issues the fsync that FULL would have made, on libuv's thread pool,
 * after COMMIT returns. The group commit settles a batch's callers only when that sync has
 * finished, so "acknowledged means on disk" holds as before, and `DurableReads` holds back reads
 * until it has finished, so nothing can be read that a crash could still take back.
 *
 * fdatasync of the WAL is exactly the sync FULL adds in WAL mode. The WAL is never deleted or
 * replaced while a connection is open (only truncated or overwritten in place), so one descriptor
 * opened at start serves for the store's lifetime; the directory is synced once at start so the
 * WAL's own directory entry is durable too.
 */
export class WalSync {
  private readonly fd: number;
  /** The fdatasync in flight, if any. */
  private running: Promise<void> | undefined;
  private closed = false;
  /** Commits the writer connection has made (counted the moment COMMIT returns). */
  private commits = 0;
  /** Commits known to be on disk. */
  private durableCommits = 0;
  private failure: unknown;
  private waiters: Array<{ commits: number; resolve: () => void; reject: (error: unknown) => void }> = [];
  readonly stats = { syncs: 0 };

  constructor(walPath: string) {
    this.fd = openSync(walPath, "r");
    const dir = openSync(dirname(walPath), "r");
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  }

  /** Called synchronously as COMMIT returns, before anything else can read what it made visible. */
  committed(): void {
    this.commits++;
  }

  /**
   * Resolves once everything written to the WAL before this call is on disk. One sync runs at a
   * time (the group commit waits for each before its next batch); a second caller meanwhile waits
   * for the running one to end and then syncs again, since that one may have started before its write.
   */
  sync(): Promise<void> {
    if (this.closed) return Promise.reject(new Error("the WAL sync is closed"));
    const running = this.running;
    const sync = running
      ? running.then(
          () => this.fdatasync(),
          () => this.fdatasync(),
        )
      : this.fdatasync();
    this.running = sync;
    const clear = () => {
      if (this.running === sync) this.running = undefined;
    };
    sync.then(clear, clear);
    return sync;
  }

  /**
   * Undefined when every commit made so far is on disk (nearly always); otherwise a promise that
   * settles once they are, with the sync's error if it failed.
   */
  durable(): Promise<void> | undefined {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const commits = this.commits;
    if (commits <= this.durableCommits) return undefined;
    return new Promise((resolve, reject) => this.waiters.push({ commits, resolve, reject }));
  }

  /** Closes the descriptor once; later calls do nothing (a descriptor number is reused once closed). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.running?.catch(() => {});
    closeSync(this.fd);
  }

  private fdatasync(): Promise<void> {
    this.stats.syncs++;
    const covers = this.commits;
    return new Promise<void>((resolve, reject) => {
      fdatasync(this.fd, (error) => {
        if (error) {
          this.failure = error;
          for (const waiter of this.waiters.splice(0)) waiter.reject(error);
          reject(error);
          return;
        }
        this.durableCommits = Math.max(this.durableCommits, covers);
        this.waiters = this.waiters.filter((waiter) => {
          if (waiter.commits > this.durableCommits) return true;
          waiter.resolve();
          return false;
        });
        resolve();
      });
    });
  }
}
