import type { App } from "../app-type.ts";
import { principalOf } from "../auth.ts";
import { IdParams, responses } from "../schemas/common.ts";
import {
  ControlMapBody,
  ControlMapResource,
  CreateReviewerBody,
  ListReviewersQuery,
  ReviewerList,
  ReviewerResource,
  UpdateReviewerBody,
} from "../schemas/reviewers.ts";
import type { Services } from "../services.ts";

/** Reviewer management (admins) and the Control Map (agents and admins). */
export function reviewerRoutes(app: App, services: Services): void {
  app.post(
    "/v1/reviewers",
    {
      config: { roles: ["admin"] },
      schema: {
        tags: ["reviewers"],
        summary: "Create a reviewer: roles, timezone, weekly shifts, overrides, fallback roles, contacts",
        body: CreateReviewerBody,
        response: responses({ 201: ReviewerResource }),
      },
    },
    async (req, reply) => reply.code(201).send(await services.reviewers.create(principalOf(req), req.body)),
  );

  app.get(
    "/v1/reviewers",
    {
      config: { roles: ["admin"] },
      schema: {
        tags: ["reviewers"],
        summary: "List reviewers (optionally those holding or covering a role)",
        querystring: ListReviewersQuery,
        response: responses({ 200: ReviewerList }),
      },
    },
    async (req) =>
      services.reviewers.list({
        limit: req.query.limit ?? 50,
        ...(req.query.role ? { role: req.query.role } : {}),
        ...(req.query.cursor ? { cursor: req.query.cursor } : {}),
      }),
  );

  app.get(
    "/v1/reviewers/:id",
    {
      config: { roles: ["admin"] },
      schema: {
        tags: ["reviewers"],
        summary: "Get a reviewer",
        params: IdParams,
        response: responses({ 200: ReviewerResource }),
      },
    },
    async (req) => services.reviewers.get(req.params.id),
  );

  app.patch(
    "/v1/reviewers/:id",
    {
      config: { roles: ["admin"] },
      schema: {
        tags: ["reviewers"],
        summary: "Change a reviewer (fields left out are kept; null clears a contact or the key)",
        params: IdParams,
        body: UpdateReviewerBody,
        response: responses({ 200: ReviewerResource }),
      },
    },
    async (req) => services.reviewers.update(principalOf(req), req.params.id, req.body),
  );

  app.delete(
    "/v1/reviewers/:id",
    {
      config: { roles: ["admin"] },
      schema: {
        tags: ["reviewers"],
        summary: "Delete a reviewer (past reviews keep who they were)",
        params: IdParams,
        response: responses({ 200: ReviewerResource }),
      },
    },
    async (req) => services.reviewers.remove(principalOf(req), req.params.id),
  );

  app.post(
    "/v1/requests/control-map",
    {
      config: { roles: ["agent", "admin"] },
      schema: {
        tags: ["requests"],
        summary: "What routing would do for these approval requirements now, without creating anything",
        description:
          "Which roles are mapped, who is on shift, who would receive fallback routing, when that next changes, and why routing would fail. Agents are judged as the requester (their own owners are counted out); admins may name an agent_key_id.",
        body: ControlMapBody,
        response: responses({ 200: ControlMapResource }),
      },
    },
    async (req) => services.routing.controlMap(principalOf(req), req.body),
  );
}
