import { type Api, enc } from "./api.ts";
import { newer } from "./inbox.ts";
import type { ApprovalRequest, Page, StreamEvent } from "./types.ts";

export type Connection = "connecting" | "live" | "reconnecting" | "offline";

type Listener = () => void;
type EventListener = (event: StreamEvent) => void;

/** At most this many pending requests are loaded (the API pages 200 at a time). */
const MAX_PENDING_PAGES = 25;

/**
 * Everything the page knows about requests, kept current by the server's event stream
 * (`GET /v1/events`). Components read it through `useLive()`; bursts of events are coalesced into
 * one re-render.
 */
export class LiveStore {
  readonly requests = new Map<string, ApprovalRequest>();
  connection: Connection = "connecting";
  pendingLoaded = false;
  loadError: string | null = null;

  private version = 0;
  private readonly listeners = new Set<Listener>();
  private readonly eventListeners = new Set<EventListener>();
  private readonly api: Api;
  private readonly checkSession: () => Promise<boolean>;
  private source: EventSource | undefined;
  private notifyTimer: ReturnType<typeof setTimeout> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private retryDelay = 1000;
  private reloading: Set<string> | undefined;
  private stopped = false;

  /** `checkSession` says whether we are still signed in (the stream cannot tell a 401 apart). */
  constructor(api: Api, checkSession: () => Promise<boolean>) {
    this.api = api;
    this.checkSession = checkSession;
  }

  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getVersion = (): number => this.version;

  onEvent(listener: EventListener): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  private changed(): void {
    this.notifyTimer ??= setTimeout(() => {
      this.notifyTimer = undefined;
      this.version++;
      for (const l of [...this.listeners]) l();
    }, 16);
  }

  upsert(request: ApprovalRequest): void {
    const current = this.requests.get(request.id);
    const kept = newer(current, request);
    this.reloading?.add(request.id);
    if (kept !== current) {
      this.requests.set(request.id, kept);
      this.changed();
    }
  }

  start(): void {
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    this.source?.close();
    this.source = undefined;
    clearTimeout(this.retryTimer);
    clearTimeout(this.notifyTimer);
  }

  private setConnection(c: Connection): void {
    if (this.connection !== c) {
      this.connection = c;
      this.changed();
    }
  }

  private open(): void {
    const source = new EventSource("/v1/events");
    this.source = source;
    source.addEventListener("open", () => {
      this.retryDelay = 1000;
      this.setConnection("live");
    });
    source.addEventListener("ready", (e) => {
      const ready = JSON.parse((e as MessageEvent<string>).data) as { resumed: boolean };
      // A fresh stream starts at the head: load the current state, then apply what follows.
      if (!ready.resumed || !this.pendingLoaded) void this.loadPending();
    });
    source.addEventListener("message", (e) => {
      const event = JSON.parse((e as MessageEvent<string>).data) as StreamEvent;
      if (event.request) this.upsert(event.request);
      for (const l of [...this.eventListeners]) l(event);
    });
    source.addEventListener("error", () => {
      if (source.readyState !== EventSource.CLOSED) {
        this.setConnection("reconnecting"); // the browser retries with Last-Event-ID
        return;
      }
      source.close();
      this.setConnection("offline");
      void this.checkSession().then((signedIn) => {
        if (!signedIn || this.stopped) return;
        this.retryTimer = setTimeout(() => this.open(), this.retryDelay);
        this.retryDelay = Math.min(this.retryDelay * 2, 30_000);
      });
    });
  }

  /** Loads every pending request I may see; pending ones that vanished were decided meanwhile. */
  async loadPending(): Promise<void> {
    const seen = new Set<string>();
    this.reloading = seen;
    try {
      let cursor: string | null | undefined;
      for (let page = 0; page < MAX_PENDING_PAGES; page++) {
        const q = `/v1/requests?status=pending&limit=200${cursor ? `&cursor=${enc(cursor)}` : ""}`;
        const result = await this.api.get<Page<ApprovalRequest>>(q);
        for (const r of result.data) this.upsert(r);
        cursor = result.next_cursor;
        if (!cursor) break;
      }
      for (const [id, r] of this.requests) {
        if (r.status === "pending" && !seen.has(id)) this.requests.delete(id);
      }
      this.pendingLoaded = true;
      this.loadError = null;
    } catch (error) {
      this.loadError = error instanceof Error ? error.message : String(error);
    } finally {
      if (this.reloading === seen) this.reloading = undefined;
      this.changed();
    }
  }

  /** Loads one page of decided requests for the inbox's status filter. */
  async loadList(query: { status: string; role?: string; correlation_id?: string }): Promise<void> {
    const q = new URLSearchParams({ limit: "200" });
    if (query.status !== "all") q.set("status", query.status);
    if (query.role) q.set("role", query.role);
    if (query.correlation_id) q.set("correlation_id", query.correlation_id);
    const result = await this.api.get<Page<ApprovalRequest>>(`/v1/requests?${q}`);
    for (const r of result.data) this.upsert(r);
    this.changed();
  }

  async fetch(id: string): Promise<ApprovalRequest> {
    const request = await this.api.get<ApprovalRequest>(`/v1/requests/${enc(id)}`);
    this.upsert(request);
    return request;
  }
}
