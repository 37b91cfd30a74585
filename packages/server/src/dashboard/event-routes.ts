import { once } from "node:events";
import type { App } from "../http/app-type.ts";
import { principalOf } from "../http/auth.ts";
import { responses } from "../http/schemas/common.ts";
import type { Services } from "../http/services.ts";
import { getKey } from "../repos/keys-repo.ts";
import { EventsHeaders } from "./schemas.ts";

export function eventRoutes(app: App, services: Services, shutdown: AbortSignal): void {
  const { events, sessions } = services.dashboard;

  app.get(
    "/v1/events",
    {
      config: { roles: ["admin", "reviewer", "agent"] },
      schema: {
        tags: ["dashboard"],
        summary: "Live audit events (server-sent events), filtered to what the caller may see",
        description:
          "`text/event-stream`. Each event's `id` is its audit seq and its `data` the audit entry as JSON " +
          "(with `request`, the request's current state, when the entry is about one). Send `Last-Event-ID` " +
          "to resume after that seq; without it the stream starts at the head with an `event: ready`. " +
          "Reviewers see requests they may see and the governance around them; agents their own entries; " +
          "admins everything. Heartbeat comments keep proxies from closing an idle stream. A caller may hold " +
          "a limited number of open streams (429 past it).",
        headers: EventsHeaders,
        response: responses({ 200: { type: "string", description: "text/event-stream" } }),
      },
    },
    async (req, reply) => {
      const by = principalOf(req);
      const lastEventId = req.headers["last-event-id"];
      const after = typeof lastEventId === "string" ? Number(lastEventId) : undefined;
      const session = req.authSession ?? null;
      // Past the caps on open streams: 429 problem+json, before anything is streamed.
      const release = events.admit(by);
      const aborted = new AbortController();
      const abort = () => aborted.abort();
      shutdown.addEventListener("abort", abort, { once: true });
      req.raw.once("close", abort);

      const res = reply.raw;
      try {
        reply.hijack();
        res.writeHead(200, {
          "content-type": "text/event-stream; charset=utf-8",
          "cache-control": "no-store",
          connection: "keep-alive",
          // Tell nginx-style proxies not to buffer the stream.
          "x-accel-buffering": "no",
          "x-request-id": String(req.id),
        });
        res.flushHeaders();
        await events.run(by, after, {
          signal: aborted.signal,
          async send(chunk) {
            if (aborted.signal.aborted || res.writableEnded) return;
            if (!res.write(chunk)) await once(res, "drain", { signal: aborted.signal }).catch(() => {});
          },
          async stillValid() {
            const key = await getKey(services.store.db, by.key_id);
            if (!key || key.revoked_at !== null) return false;
            return session ? sessions.isLive(session.id) : true;
          },
        });
      } catch (error) {
        if (!aborted.signal.aborted) req.log.error({ err: error }, "event stream failed");
      } finally {
        release();
        shutdown.removeEventListener("abort", abort);
        req.raw.off("close", abort);
        if (!res.writableEnded) res.end();
      }
    },
  );
}
