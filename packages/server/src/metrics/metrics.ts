import { sql } from "kysely";
import { Counter, collectDefaultMetrics, Gauge, type Metric, Registry } from "prom-client";
import type { Store } from "../storage/store.ts";
import { RouteTimings } from "./route-timings.ts";

/**
 * Prometheus metrics for one server instance (a registry per instance, so several servers in one
 * process — tests, embedding — never share or double-count). Built on prom-client, the standard
 * Node client, for its exposition format and process metrics.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly httpTimings = new RouteTimings();
  private readonly auditEntries: Counter<"kind">;
  private readonly auditChildren = new Map<string, { inc(): void }>();
  private readonly unsubscribe: () => void;

  constructor(store: Store) {
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    // Registered as a metric of its own: see RouteTimings for why it is not a prom-client Histogram.
    this.registry.registerMetric(this.httpTimings as unknown as Metric);
    this.auditEntries = new Counter({
      name: "countersign_audit_entries_total",
      help: "Audit entries committed, by kind (requests created and decided, governed calls, deliveries…)",
      labelNames: ["kind"],
      registers,
    });
    // Counted after commit: an entry that rolled back never happened.
    this.unsubscribe = store.onAppend(async (ctx, entries) => {
      ctx.afterCommit(() => {
        for (const entry of entries) this.auditCounter(entry.kind).inc();
      });
    });
    const seen = { batches: 0, units: 0 };
    new Counter({
      name: "countersign_commit_batches_total",
      help: "Durable commits (each may carry many writes: group commit)",
      registers,
      collect() {
        this.inc(store.stats.batches - seen.batches);
        seen.batches = store.stats.batches;
      },
    });
    new Counter({
      name: "countersign_committed_writes_total",
      help: "Writes committed durably",
      registers,
      collect() {
        this.inc(store.stats.units - seen.units);
        seen.units = store.stats.units;
      },
    });
    new Gauge({
      name: "countersign_waiters",
      help: "Long-polls and streams currently waiting for a change",
      registers,
      collect() {
        this.set(store.changes.waiterCount);
      },
    });
    new Gauge({
      name: "countersign_pending_requests",
      help: "Requests waiting for a decision",
      registers,
      async collect() {
        const row = await sql<{
          n: number | string;
        }>`select count(*) as n from requests where status = 'pending'`.execute(store.db);
        this.set(Number(row.rows[0]?.n ?? 0));
      },
    });
  }

  /** The audit counter's child for a kind, looked up once (see httpChildren). */
  private auditCounter(kind: string): { inc(): void } {
    let child = this.auditChildren.get(kind);
    if (!child) {
      child = this.auditEntries.labels({ kind });
      this.auditChildren.set(kind, child);
    }
    return child;
  }

  observeHttp(method: string, route: string, status: number, seconds: number): void {
    this.httpTimings.observe(method, route, status, seconds);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  close(): void {
    this.unsubscribe();
    this.httpTimings.reset();
    this.auditChildren.clear();
    this.registry.clear();
  }
}
