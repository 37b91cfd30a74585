import { expect } from "vitest";
import { createAccount, type TestSession } from "../../../server/src/dashboard/testing.ts";
import { startTestServer, type TestServer } from "../../../server/src/testing/harness.ts";
import { call } from "../../../server/src/testing/http-client.ts";
import type { ApprovalRequest } from "../lib/types.ts";

/** A real server on a temporary database, with an agent key and two people who can sign in. */
export interface DashboardServer {
  server: TestServer;
  url: string;
  agent: string;
  reviewer: TestSession;
  admin: TestSession;
  /** Creates a request as the agent, through the API. */
  create(body: Record<string, unknown>): Promise<ApprovalRequest>;
  /** Reads a request through the API, as the bootstrap admin key. */
  get(id: string): Promise<ApprovalRequest>;
  close(): Promise<void>;
}

export async function startDashboardServer(): Promise<DashboardServer> {
  const server = await startTestServer();
  const agent = await server.createKey("agent", "support-bot");
  const reviewer = await createAccount(
    server,
    "rita.reviewer@example.com",
    "reviewer",
    "rita's long passphrase",
  );
  const admin = await createAccount(server, "adam.admin@example.com", "admin", "adam's long passphrase");
  return {
    server,
    url: server.url,
    agent,
    reviewer,
    admin,
    async create(body) {
      const res = await call<ApprovalRequest>(server.url, "POST", "/v1/requests", { key: agent, body });
      expect(res.status).toBe(201);
      return res.body;
    },
    async get(id) {
      const res = await call<ApprovalRequest>(server.url, "GET", `/v1/requests/${id}`, {
        key: server.adminKey,
      });
      expect(res.status).toBe(200);
      return res.body;
    },
    close: () => server.close(),
  };
}
