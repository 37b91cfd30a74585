// What the govern HTTP test files share: the policy they govern by, the shape of a govern answer,
// and one server per storage kind with a "billing-bot" agent key and a finance reviewer key.

import { afterAll, beforeAll, expect } from "vitest";
import { type StorageKind, startTestServer, type TestServer } from "../testing/harness.ts";
import { call, type HttpResult } from "../testing/http-client.ts";
import { addReviewer } from "../testing/reviewers.ts";

export const POLICY = `version: 1
default: { decision: allow }
risk_tiers:
  high: { required_roles: [finance], required_approvals: 1, ttl_seconds: 600, priority: high, require_distinct_roles: true, escalate_after_seconds: 120 }
budgets:
  max_tool_calls: 5
  on_exceed: deny
rules:
  - id: no-drops
    match: { tool: "db.*", args: "args.sql matches '(?i)drop'" }
    decision: deny
    reason: "dropping tables is never allowed"
  - id: payments-cap
    match: { tool: "payments.send", args: "args.amount > 100000" }
    decision: deny
    reason: "payments above 100000 are never allowed"
  - id: payments-large
    match: { tool: "payments.send", args: "args.amount > 1000" }
    decision: approval_required
    risk: high
    reason: "payments above 1000 need finance approval"
  - id: email-external
    match: { tool: "email.send" }
    decision: approval_required
    reason: "customer email needs a human"
    escalate_after_seconds: null
`;

export type Gov = {
  id: string;
  decision: string;
  reason: string;
  rule_id: string;
  policy_version: string;
  stop_reason: string | null;
  request_id: string | null;
  request_status: string | null;
  approval_token: string | null;
  approved_args: unknown;
  review_comment: string | null;
  budgets: { remaining: { tool_calls?: number }; exceeded: string[] } | null;
  replayed: boolean;
};

export interface GovernHttp {
  /** The server and the agent and reviewer keys: read them inside a test, once started. */
  readonly s: TestServer;
  readonly agent: string;
  readonly reviewer: string;
  /** A run id not used before in this `describe`. */
  nextRun(): string;
  /** Sends a tool call to /v1/govern as the agent. */
  govern(body: Record<string, unknown>): Promise<HttpResult<Gov>>;
}

/** Starts the server for the enclosing `describe`, with POLICY in force, and closes it afterwards. */
export function useGovernHttp(storage: StorageKind): GovernHttp {
  let s: TestServer | undefined;
  let agent: string | undefined;
  let reviewer: string | undefined;
  let run = 0;

  beforeAll(async () => {
    s = await startTestServer({ storage });
    [agent, reviewer] = await Promise.all([s.createKey("agent", "billing-bot"), s.createKey("reviewer")]);
    // Payments above 1000 need finance: the reviewer key belongs to a finance reviewer.
    await addReviewer(s, { key: reviewer, name: "Fiona", roles: ["finance"] });
    const put = await call(s.url, "PUT", "/v1/policy", { key: s.adminKey, body: { source: POLICY } });
    expect(put.status).toBe(200);
  });
  afterAll(() => env.s.close());

  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("the govern test server has not started");
    return value;
  };

  const env: GovernHttp = {
    get s() {
      return started(s);
    },
    get agent() {
      return started(agent);
    },
    get reviewer() {
      return started(reviewer);
    },
    nextRun: () => `run-${storage}-${++run}`,
    govern: (body) => call<Gov>(env.s.url, "POST", "/v1/govern", { key: env.agent, body }),
  };
  return env;
}
