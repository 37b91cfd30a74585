import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

/*
 * A local HTTP server that speaks the Claude Managed Agents sessions events API, for tests that
 * drive the real `@anthropic-ai/sdk` client against it:
 *
 *   GET  /v1/sessions/{id}/events/stream   server-sent events (`event: <type>` + `data: <json>`),
 *                                          live events only, as the service sends them
 *   GET  /v1/sessions/{id}/events          the history, `{data, next_page}` pages (`limit`, `page`)
 *   POST /v1/sessions/{id}/events          `{events: [...]}` from the client, echoed as `{data}`
 *
 * The test plays the agent: it emits events (`emit`), sees what the client sent (`received`),
 * reacts to it (`onPost`), and can make sends fail or cut the streams.
 */

type Json = Record<string, unknown>;

/** Keys this server accepts; any other is refused with 401. */
export const API_KEY_PREFIX = "sk-ant-";

interface Session {
  history: Json[];
  streams: Set<ServerResponse>;
  opened: Array<() => void>;
}

export class SessionsApi {
  readonly url: string;
  /** Every event a client posted, in order. */
  readonly received: Array<{ sessionId: string; event: Json }> = [];
  /** Called after each accepted POST, with the events as stored. */
  onPost: ((sessionId: string, events: Json[]) => void) | undefined;
  /** The next this-many POSTs fail with `failStatus` instead of being accepted. */
  failPosts = 0;
  failStatus = 500;
  private readonly server: Server;
  private readonly sessions = new Map<string, Session>();
  private sequence = 0;

  private constructor(server: Server, url: string) {
    this.server = server;
    this.url = url;
  }

  static async start(): Promise<SessionsApi> {
    let api: SessionsApi | undefined;
    const server = createServer((req, res) => {
      api?.handle(req, res).catch((error) => {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ type: "error", error: { type: "api_error", message: String(error) } }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (typeof address !== "object" || address === null) throw new Error("no address");
    api = new SessionsApi(server, `http://127.0.0.1:${address.port}`);
    return api;
  }

  /** Appends an event to a session (giving it an id and time) and streams it to every listener. */
  emit(sessionId: string, event: Json): Json {
    const stored: Json = {
      id: `sevt_${String(++this.sequence).padStart(6, "0")}`,
      processed_at: new Date().toISOString(),
      ...event,
    };
    const session = this.session(sessionId);
    session.history.push(stored);
    for (const stream of session.streams)
      stream.write(`event: ${String(stored.type)}\ndata: ${JSON.stringify(stored)}\n\n`);
    return stored;
  }

  /** Resolves once a client has a stream open on the session. */
  streamOpened(sessionId: string): Promise<void> {
    const session = this.session(sessionId);
    if (session.streams.size > 0) return Promise.resolve();
    return new Promise((resolve) => session.opened.push(resolve));
  }

  /** Ends every open stream, as a dropped connection would. */
  disconnectStreams(): void {
    for (const session of this.sessions.values()) {
      for (const stream of session.streams) stream.end();
      session.streams.clear();
    }
  }

  history(sessionId: string): Json[] {
    return this.session(sessionId).history;
  }

  async close(): Promise<void> {
    this.disconnectStreams();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private session(id: string): Session {
    let session = this.sessions.get(id);
    if (!session) {
      session = { history: [], streams: new Set(), opened: [] };
      this.sessions.set(id, session);
    }
    return session;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    const match = /^\/v1\/sessions\/([^/]+)\/events(\/stream)?$/.exec(url.pathname);
    if (!match?.[1])
      return send(res, 404, error("not_found_error", `no route ${req.method} ${url.pathname}`));
    // What the real service insists on, so a client that forgot them fails here too.
    const credential = String(
      req.headers["x-api-key"] ?? req.headers.authorization?.replace(/^Bearer /, "") ?? "",
    );
    if (!credential.startsWith(API_KEY_PREFIX)) {
      return send(res, 401, error("authentication_error", "invalid x-api-key"));
    }
    if (!String(req.headers["anthropic-beta"] ?? "").includes("managed-agents-2026-04-01")) {
      return send(res, 400, error("invalid_request_error", "the managed-agents beta header is required"));
    }
    const sessionId = decodeURIComponent(match[1]);
    const session = this.session(sessionId);

    if (req.method === "GET" && match[2]) {
      res.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        connection: "keep-alive",
      });
      res.write(": connected\n\n");
      session.streams.add(res);
      req.on("close", () => session.streams.delete(res));
      for (const resolve of session.opened.splice(0)) resolve();
      return;
    }
    if (req.method === "GET") {
      const limit = Number(url.searchParams.get("limit") ?? 20);
      const offset = Number(url.searchParams.get("page") ?? 0);
      const data = session.history.slice(offset, offset + limit);
      const next = offset + limit < session.history.length ? String(offset + limit) : null;
      return send(res, 200, { data, next_page: next });
    }
    if (req.method === "POST") {
      const body = JSON.parse(await readBody(req)) as { events?: Json[] };
      if (this.failPosts > 0) {
        this.failPosts--;
        return send(res, this.failStatus, error("api_error", "temporarily unavailable"));
      }
      const stored = (body.events ?? []).map((event) => {
        this.received.push({ sessionId, event });
        return this.emit(sessionId, event);
      });
      send(res, 200, { data: stored });
      this.onPost?.(sessionId, stored);
      return;
    }
    send(res, 405, error("invalid_request_error", "method not allowed"));
  }
}

function error(type: string, message: string): Json {
  return { type: "error", error: { type, message } };
}

function send(res: ServerResponse, status: number, body: Json): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
