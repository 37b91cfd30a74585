import { UnavailableError } from "@countersign/core";

/**
 * Lets at most `concurrency` tasks run at once and queues up to `maxWaiting` more in arrival order;
 * beyond that a task is refused at once with a retryable 503 rather than queued without bound.
 */
export class WorkGate {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly concurrency: number;
  private readonly maxWaiting: number;
  private readonly busyMessage: string;

  constructor(options: { concurrency: number; maxWaiting: number; busyMessage?: string }) {
    this.concurrency = options.concurrency;
    this.maxWaiting = options.maxWaiting;
    this.busyMessage = options.busyMessage ?? "the server is busy; try again shortly";
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.maxWaiting) {
        throw new UnavailableError(this.busyMessage);
      }
      // The finishing task hands its slot over directly, so `running` never dips and rises again.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }
}
