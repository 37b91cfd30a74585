/**
 * Runs `tick` repeatedly: again at once while it reports a full batch of work, otherwise after
 * `intervalMs`. Errors are reported and the loop goes on (a database blip must not stop expiry).
 * `stop()` waits for the tick in progress, so shutdown never cuts a write in half.
 */
export class PeriodicWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly name: string;
  private readonly intervalMs: number;
  private readonly tick: () => Promise<boolean>;
  private readonly onError: (error: unknown) => void;

  constructor(options: {
    name: string;
    intervalMs: number;
    /** Returns true when there may be more work right away. */
    tick: () => Promise<boolean>;
    onError: (error: unknown) => void;
  }) {
    this.name = options.name;
    this.intervalMs = options.intervalMs;
    this.tick = options.tick;
    this.onError = options.onError;
  }

  start(): void {
    this.schedule(0);
  }

  /** Run a tick now (used by tests and after events that create due work). */
  poke(): void {
    if (this.running || this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  toString(): string {
    return `PeriodicWorker(${this.name})`;
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick()
        .then(
          (more) => this.schedule(more ? 0 : this.intervalMs),
          (error) => {
            this.onError(error);
            this.schedule(this.intervalMs);
          },
        )
        .finally(() => {
          this.running = undefined;
        });
    }, delay);
    this.timer.unref();
  }
}
