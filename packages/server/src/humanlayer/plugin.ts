import { ConflictError, ForbiddenError, type Principal, type Role } from "@countersign/core";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { authenticate, principalOf, requireRole } from "../http/auth.ts";
import type { Services } from "../http/services.ts";
import { findCall } from "./lookup.ts";
import {
  functionCallRequest,
  functionCallResponse,
  functionCallView,
  humanContactRequest,
  humanContactResponse,
  humanContactView,
  type Kind,
} from "./mapping.ts";
import {
  CallIdParams,
  EscalationBody,
  type EscalationInput,
  FunctionCallBody,
  FunctionCallStatusBody,
  HumanContactBody,
  HumanContactStatusBody,
} from "./schemas.ts";

/*
 * The HumanLayer-compatible API: the endpoints `@humanlayer/sdk` and `humanlayer` call, served
 * from Countersign's own requests. Register it under `/humanlayer/v1`, which is what
 * `HUMANLAYER_API_BASE` then points to (`https://countersign.example.com/humanlayer/v1`), with a
 * Countersign agent key as `HUMANLAYER_API_KEY`.
 *
 * Authentication is the same bearer key as on /v1, checked by this plugin's own hook. Agents
 * create, read and escalate their calls; deciding them (`…/respond`) takes a reviewer or admin key,
 * since no agent may approve its own request.
 */

const AGENTS: Role[] = ["agent", "admin"];
const READERS: Role[] = ["agent", "reviewer", "admin"];
const DECIDERS: Role[] = ["reviewer", "admin"];
const CHANNEL = "humanlayer";
const tags = ["humanlayer"];

export function humanLayerApi(services: Services): FastifyPluginAsyncTypebox {
  return async (api) => {
    api.addHook("onRequest", async (req) => {
      const roles = req.routeOptions.config.roles;
      if (!roles) return; // unknown route: answered 404 by the not-found handler
      const principal = await authenticate(req, services.keys);
      req.principal = principal;
      if (principal.role === "agent" && roles === DECIDERS) {
        throw new ForbiddenError(
          "an agent key cannot decide requests (its own least of all); respond with a reviewer key",
        );
      }
      requireRole(principal, ...roles);
    });

    /* ---- function calls ---- */

    api.post(
      "/function_calls",
      {
        config: { roles: AGENTS },
        schema: {
          tags,
          summary: "Ask for approval of a function call (an approval request)",
          body: FunctionCallBody,
        },
      },
      async (req, reply) => {
        const { request, replayed } = await services.requests.create(
          principalOf(req),
          functionCallRequest(req.body),
        );
        return reply.code(replayed ? 200 : 201).send(functionCallView(request));
      },
    );

    api.get(
      "/function_calls/:call_id",
      {
        config: { roles: READERS },
        schema: { tags, summary: "A function call and its status", params: CallIdParams },
      },
      async (req) =>
        functionCallView(await findCall(services, principalOf(req), "function_call", req.params.call_id)),
    );

    api.post(
      "/agent/function_calls/:call_id/respond",
      {
        config: { roles: DECIDERS },
        schema: {
          tags,
          summary: "Approve or reject a function call",
          params: CallIdParams,
          body: FunctionCallStatusBody,
        },
      },
      async (req) => {
        const by = principalOf(req);
        const request = await findCall(services, by, "function_call", req.params.call_id);
        const decided = await services.requests.respond(
          by,
          request.id,
          functionCallResponse(request, req.body),
          CHANNEL,
        );
        return functionCallView(decided);
      },
    );

    api.post(
      "/agent/function_calls/:call_id/escalate_email",
      {
        config: { roles: AGENTS },
        schema: {
          tags,
          summary: "Escalate a pending function call",
          params: CallIdParams,
          body: EscalationBody,
        },
      },
      async (req) =>
        functionCallView(await escalate(principalOf(req), "function_call", req.params.call_id, req.body)),
    );

    /* ---- contact requests ---- */

    api.post(
      "/contact_requests",
      {
        config: { roles: AGENTS },
        schema: {
          tags,
          summary: "Ask a human for input (an input or decision request)",
          body: HumanContactBody,
        },
      },
      async (req, reply) => {
        const { request, replayed } = await services.requests.create(
          principalOf(req),
          humanContactRequest(req.body),
        );
        return reply.code(replayed ? 200 : 201).send(humanContactView(request));
      },
    );

    api.get(
      "/contact_requests/:call_id",
      {
        config: { roles: READERS },
        schema: { tags, summary: "A contact request and its status", params: CallIdParams },
      },
      async (req) =>
        humanContactView(await findCall(services, principalOf(req), "human_contact", req.params.call_id)),
    );

    api.post(
      "/agent/human_contacts/:call_id/respond",
      {
        config: { roles: DECIDERS },
        schema: {
          tags,
          summary: "Answer a contact request",
          params: CallIdParams,
          body: HumanContactStatusBody,
        },
      },
      async (req) => {
        const by = principalOf(req);
        const request = await findCall(services, by, "human_contact", req.params.call_id);
        const decided = await services.requests.respond(
          by,
          request.id,
          humanContactResponse(request, req.body),
          CHANNEL,
        );
        return humanContactView(decided);
      },
    );

    api.post(
      "/agent/human_contacts/:call_id/escalate_email",
      {
        config: { roles: AGENTS },
        schema: {
          tags,
          summary: "Escalate a pending contact request",
          params: CallIdParams,
          body: EscalationBody,
        },
      },
      async (req) =>
        humanContactView(await escalate(principalOf(req), "human_contact", req.params.call_id, req.body)),
    );
  };

  /**
   * An escalation is recorded in the request's case as an action (`humanlayer.escalate_email`, with
   * its message and recipients), where reviewers and the audit log see it; Countersign's routing
   * decides who is notified.
   */
  async function escalate(by: Principal, kind: Kind, callId: string, body: EscalationInput) {
    const request = await findCall(services, by, kind, callId);
    if (request.status !== "pending") {
      throw new ConflictError("already_decided", `request ${request.id} is already ${request.status}`);
    }
    await services.actions.log(by, {
      action: "humanlayer.escalate_email",
      summary: body.escalation_msg,
      severity: "warning",
      source: { integration: CHANNEL, run_id: request.correlation_id },
      in_reply_to: { type: "request", id: request.id },
      metadata: {
        call_id: callId,
        additional_recipients: body.additional_recipients ?? [],
        channel: body.channel ?? null,
      },
    });
    return services.requests.get(by, request.id);
  }
}
