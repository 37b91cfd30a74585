import { type ApprovalRequest, isTerminal } from "@countersign/core";
import { Type } from "typebox";
import type { App } from "../app-type.ts";
import { principalOf } from "../auth.ts";
import { IdParams, responses } from "../schemas/common.ts";
import {
  CancelBody,
  CreateRequestBody,
  ListRequestsQuery,
  RequestList,
  RequestResource,
  RespondBody,
  WaitQuery,
} from "../schemas/requests.ts";
import type { Services } from "../services.ts";

export function requestRoutes(app: App, services: Services, shutdown: AbortSignal): void {
  app.post(
    "/v1/requests",
    {
      config: { roles: ["agent", "admin"] },
      schema: {
        tags: ["requests"],
        summary: "Create an approval request",
        description:
          "201 with the new request; an identical replay of the same external_request_id returns 200 with the original, a different body 409.",
        body: CreateRequestBody,
        response: responses({ 200: RequestResource, 201: RequestResource }),
      },
    },
    async (req, reply) => {
      const outcome = await services.requests.create(principalOf(req), req.body);
      reply.code(outcome.replayed ? 200 : 201);
      // The stored document is this very resource, already serialised: send it as it is.
      if (outcome.json !== undefined) return reply.type("application/json; charset=utf-8").send(outcome.json);
      return reply.send(outcome.request);
    },
  );

  app.get(
    "/v1/requests",
    {
      config: { roles: ["agent", "reviewer", "admin"] },
      schema: {
        tags: ["requests"],
        summary: "List requests, newest first (agents see only their own)",
        querystring: ListRequestsQuery,
        response: responses({ 200: RequestList }),
      },
    },
    async (req) => {
      const q = req.query;
      return services.requests.list(principalOf(req), {
        limit: q.limit ?? 50,
        ...(q.status ? { status: q.status } : {}),
        ...(q.correlation_id ? { correlation_id: q.correlation_id } : {}),
        ...(q.role ? { role: q.role } : {}),
        ...(q.cursor ? { before_id: q.cursor } : {}),
      });
    },
  );

  app.get(
    "/v1/requests/:id",
    {
      config: { roles: ["agent", "reviewer", "admin"] },
      schema: {
        tags: ["requests"],
        summary: "Get a request",
        params: IdParams,
        response: responses({ 200: RequestResource }),
      },
    },
    async (req) => services.requests.get(principalOf(req), req.params.id),
  );

  app.get(
    "/v1/requests/:id/wait",
    {
      config: { roles: ["agent", "reviewer", "admin"] },
      schema: {
        tags: ["requests"],
        summary: "Long-poll until the request is decided",
        description:
          "Returns as soon as the request is terminal, or the still-pending request after timeout_seconds (≤ 60). Header `countersign-wait: decided|timeout`.",
        params: IdParams,
        querystring: WaitQuery,
        response: responses({ 200: RequestResource }),
      },
    },
    async (req, reply) => {
      const aborted = new AbortController();
      const onClose = () => aborted.abort();
      req.raw.once("close", onClose);
      shutdown.addEventListener("abort", onClose, { once: true });
      try {
        const request: ApprovalRequest = await services.requests.wait(
          principalOf(req),
          req.params.id,
          (req.query.timeout_seconds ?? 30) * 1000,
          aborted.signal,
        );
        reply.header("countersign-wait", isTerminal(request.status) ? "decided" : "timeout");
        return request;
      } finally {
        req.raw.off("close", onClose);
        shutdown.removeEventListener("abort", onClose);
      }
    },
  );

  app.post(
    "/v1/requests/:id/respond",
    {
      config: { roles: ["reviewer", "admin"] },
      schema: {
        tags: ["requests"],
        summary: "Respond to a request (approve, reject, choose an option, answer)",
        params: IdParams,
        body: RespondBody,
        response: responses({ 200: RequestResource }),
      },
    },
    async (req) => services.requests.respond(principalOf(req), req.params.id, req.body),
  );

  app.post(
    "/v1/requests/:id/cancel",
    {
      config: { roles: ["agent", "admin"] },
      schema: {
        tags: ["requests"],
        summary: "Cancel a pending request (its creating agent, or an admin)",
        params: IdParams,
        body: Type.Optional(CancelBody),
        response: responses({ 200: RequestResource }),
      },
    },
    async (req) => services.requests.cancel(principalOf(req), req.params.id, req.body?.reason),
  );
}
