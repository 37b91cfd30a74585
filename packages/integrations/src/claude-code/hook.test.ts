import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type ApprovalRequest, CountersignClient } from "@countersign/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../../server/src/testing/harness.ts";
import { hookCommand, runClaudeCodeHook } from "./index.ts";

/*
 * Recorded Claude Code hook input on stdin, a real Countersign server behind it, and the exact
 * stdout and exit code Claude Code would read.
 */

const POLICY = `version: 1
default: { decision: allow }
rules:
  - id: no-force-push
    match: { tool: Bash, args: "args.command contains 'push --force'" }
    decision: deny
    reason: "force pushes are not allowed"
  - id: publishing
    match: { tool: Bash, args: "args.command starts_with 'npm publish'" }
    decision: approval_required
    reason: "publishing needs a maintainer"
  - id: secrets
    match: { tool: Write, args: "args.file_path contains '.env'" }
    decision: approval_required
    reason: "writing secrets files needs a maintainer"
`;

const FIXTURES = join(import.meta.dirname, "fixtures");

let s: TestServer;
let env: Record<string, string>;
let reviewer: CountersignClient;
let sessions = 0;

beforeAll(async () => {
  s = await startTestServer();
  const [agentKey, reviewerKey] = await Promise.all([
    s.createKey("agent", "claude-code"),
    s.createKey("reviewer"),
  ]);
  env = { COUNTERSIGN_URL: s.url, COUNTERSIGN_API_KEY: agentKey };
  reviewer = new CountersignClient({ baseUrl: s.url, apiKey: reviewerKey });
  const put = await fetch(`${s.url}/v1/policy`, {
    method: "PUT",
    headers: { authorization: `Bearer ${s.adminKey}`, "content-type": "application/json" },
    body: JSON.stringify({ source: POLICY }),
  });
  expect(put.status).toBe(200);
});
afterAll(() => s.close());

/** A recorded hook input, moved into a session of its own. */
function recorded(name: string, session: string, changes: Record<string, unknown> = {}): string {
  const input = JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), "utf8")) as Record<string, unknown>;
  return JSON.stringify({ ...input, session_id: session, ...changes });
}

const newSession = () => `session-${++sessions}-${Date.now()}`;

async function pendingRequest(session: string): Promise<ApprovalRequest> {
  for (let i = 0; i < 400; i++) {
    const first = (await reviewer.listRequests({ correlationId: session, status: "pending" })).data[0];
    if (first) return first;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no pending request in ${session}`);
}

const output = (stdout: string) => JSON.parse(stdout) as { hookSpecificOutput: Record<string, unknown> };

describe("countersign hook claude-code", () => {
  it("allows a call the policy allows", async () => {
    const result = await runClaudeCodeHook({
      stdin: recorded("pre-tool-use-bash-status", newSession()),
      env,
    });
    expect(result.exitCode).toBe(0);
    expect(output(result.stdout)).toEqual({
      hookSpecificOutput: {
        hookEventName: "PreToolUse",
        permissionDecision: "allow",
        permissionDecisionReason: "Countersign allowed it (default)",
      },
    });
  });

  it("denies a call the policy denies, with the reason Claude is shown", async () => {
    const result = await runClaudeCodeHook({
      stdin: recorded("pre-tool-use-bash-force-push", newSession()),
      env,
    });
    expect(result.exitCode).toBe(0);
    expect(output(result.stdout)).toEqual({
      hookSpecificOutput: {
        hookEventName: "PreToolUse",
        permissionDecision: "deny",
        permissionDecisionReason: "Countersign denied this (policy_denied): force pushes are not allowed",
      },
    });
  });

  it("waits for a reviewer within its budget and passes edited input on as updatedInput", async () => {
    const session = newSession();
    const running = runClaudeCodeHook({
      stdin: recorded("pre-tool-use-bash-publish", session),
      env,
      waitSeconds: 20,
    });
    const request = await pendingRequest(session);
    expect(request).toMatchObject({
      external_request_id: `govern:${session}:toolu_01HxQ7mJ3Vq9kXyB2nR5tLpA`,
      correlation_id: session,
      question: "Claude Code wants to use Bash: npm publish --access public",
      tool: { name: "Bash", args: { command: "npm publish --access public" } },
    });
    const edited = { command: "npm publish --access restricted", description: "Publish privately" };
    await reviewer.respond(request.id, { approved: true, comment: "private for now", modified_args: edited });

    const result = await running;
    expect(result.exitCode).toBe(0);
    expect(output(result.stdout)).toEqual({
      hookSpecificOutput: {
        hookEventName: "PreToolUse",
        permissionDecision: "allow",
        permissionDecisionReason: `Approved in Countersign (request ${request.id}): private for now`,
        updatedInput: edited,
      },
    });
    // The approval was used once, for exactly the edited input.
    const timeline = (await reviewer.getCase(session)).timeline;
    expect(timeline.find((e) => e.kind === "token.consumed")?.data).toMatchObject({ request_id: request.id });
  });

  it("defers past its budget, and the resumed session finds the decision already made", async () => {
    const session = newSession();
    const stdin = recorded("pre-tool-use-bash-publish", session);
    const first = await runClaudeCodeHook({ stdin, env, waitSeconds: 0.2 });
    expect(first.exitCode).toBe(0);
    const request = await pendingRequest(session);
    expect(output(first.stdout)).toEqual({
      hookSpecificOutput: {
        hookEventName: "PreToolUse",
        permissionDecision: "defer",
        permissionDecisionReason: `Waiting for a reviewer in Countersign (request ${request.id}); resume the session once it is decided`,
      },
    });

    await reviewer.respond(request.id, { approved: true });
    // `claude -p --resume` runs the hook again for the same tool call.
    const resumed = await runClaudeCodeHook({ stdin, env, waitSeconds: 0.2 });
    expect(output(resumed.stdout).hookSpecificOutput).toMatchObject({
      permissionDecision: "allow",
      permissionDecisionReason: `Approved in Countersign (request ${request.id})`,
    });
    expect(output(resumed.stdout).hookSpecificOutput).not.toHaveProperty("updatedInput");
    expect((await reviewer.listRequests({ correlationId: session })).data).toHaveLength(1);
  });

  it("denies with the reviewer's comment when the call is rejected", async () => {
    const session = newSession();
    const running = runClaudeCodeHook({
      stdin: recorded("pre-tool-use-write", session),
      env,
      waitSeconds: 20,
    });
    const request = await pendingRequest(session);
    await reviewer.respond(request.id, { approved: false, comment: "secrets go through the vault" });
    expect(output((await running).stdout)).toEqual({
      hookSpecificOutput: {
        hookEventName: "PreToolUse",
        permissionDecision: "deny",
        permissionDecisionReason: "A reviewer rejected this in Countersign: secrets go through the vault",
      },
    });
  });

  it("answers a PermissionRequest, keyed by a hash of the input, each approval used once", async () => {
    const session = newSession();
    const stdin = recorded("permission-request-bash-publish", session);
    const running = runClaudeCodeHook({ stdin, env, waitSeconds: 20 });
    const request = await pendingRequest(session);
    expect(request.external_request_id).toMatch(new RegExp(`^govern:${session}:perm_[0-9a-f]{64}$`));
    await reviewer.respond(request.id, { approved: true });
    expect(output((await running).stdout)).toEqual({
      hookSpecificOutput: { hookEventName: "PermissionRequest", decision: { behavior: "allow" } },
    });

    // The same call again in the session: the approval is spent, so it is asked for afresh.
    const again = await runClaudeCodeHook({ stdin, env, waitSeconds: 0.2 });
    const second = await pendingRequest(session);
    expect(second.id).not.toBe(request.id);
    expect(second.external_request_id).toBe(`${request.external_request_id}_2`);
    expect(output(again.stdout)).toEqual({
      hookSpecificOutput: {
        hookEventName: "PermissionRequest",
        decision: {
          behavior: "deny",
          message: `Waiting for a reviewer in Countersign (request ${second.id}); make the same call again once it is decided`,
        },
      },
    });
    // Retried while pending: the same request, not a third.
    await runClaudeCodeHook({ stdin, env, waitSeconds: 0.1 });
    expect((await reviewer.listRequests({ correlationId: session })).data).toHaveLength(2);
  });

  it("with --on-pending deny, a retried call (new tool_use_id) finds its first request", async () => {
    const session = newSession();
    const first = await runClaudeCodeHook({
      stdin: recorded("pre-tool-use-bash-publish", session),
      env,
      waitSeconds: 0.1,
      onPending: "deny",
    });
    expect(output(first.stdout).hookSpecificOutput.permissionDecision).toBe("deny");
    const request = await pendingRequest(session);
    await reviewer.respond(request.id, { approved: true });
    const retried = await runClaudeCodeHook({
      stdin: recorded("pre-tool-use-bash-publish", session, { tool_use_id: "toolu_01RetryRetryRetryRetry" }),
      env,
      waitSeconds: 0.1,
      onPending: "deny",
    });
    expect(output(retried.stdout).hookSpecificOutput.permissionDecision).toBe("allow");
    expect((await reviewer.listRequests({ correlationId: session })).data).toHaveLength(1);
  });

  it("fails closed when the gateway is unreachable or not configured", async () => {
    const unreachable = { COUNTERSIGN_URL: "http://127.0.0.1:9", COUNTERSIGN_API_KEY: "cs_agent_x" };
    const pre = await runClaudeCodeHook({
      stdin: recorded("pre-tool-use-bash-status", newSession()),
      env: unreachable,
    });
    expect(pre.exitCode).toBe(0);
    const preOut = output(pre.stdout).hookSpecificOutput;
    expect(preOut.permissionDecision).toBe("deny");
    expect(preOut.permissionDecisionReason).toMatch(
      /^Countersign is unreachable at http:\/\/127\.0\.0\.1:9 .*refused/,
    );

    const perm = await runClaudeCodeHook({
      stdin: recorded("permission-request-bash-publish", newSession()),
      env: unreachable,
    });
    expect(output(perm.stdout).hookSpecificOutput.decision).toMatchObject({ behavior: "deny" });

    const unset = await runClaudeCodeHook({
      stdin: recorded("pre-tool-use-bash-status", newSession()),
      env: {},
    });
    expect(output(unset.stdout).hookSpecificOutput).toMatchObject({
      permissionDecision: "deny",
      permissionDecisionReason: expect.stringContaining("Countersign is not configured"),
    });

    const badKey = await runClaudeCodeHook({
      stdin: recorded("pre-tool-use-bash-status", newSession()),
      env: { ...env, COUNTERSIGN_API_KEY: "cs_agent_unknown" },
    });
    expect(output(badKey.stdout).hookSpecificOutput.permissionDecisionReason).toContain("401 unauthorized");
  });

  it("exits 2 with a message on stderr for input it cannot use", async () => {
    for (const stdin of ["", "not json", "[]", JSON.stringify({ hook_event_name: "PostToolUse" })]) {
      const result = await runClaudeCodeHook({ stdin, env });
      expect(result).toMatchObject({ stdout: "", exitCode: 2 });
      expect(result.stderr).toMatch(/^countersign hook claude-code: /);
    }
  });

  it("runs as a command: stdin in, the answer on stdout, flags checked", async () => {
    const lines: string[] = [];
    const errors: string[] = [];
    const out = { stdout: (t: string) => lines.push(t), stderr: (t: string) => errors.push(t) };
    const stdin = recorded("pre-tool-use-bash-force-push", newSession());
    expect(await hookCommand(["claude-code", "--wait-seconds", "5"], env, out, async () => stdin)).toBe(0);
    expect(output(lines.join("")).hookSpecificOutput.permissionDecision).toBe("deny");
    expect(await hookCommand(["cursor"], env, out, async () => stdin)).toBe(2);
    expect(await hookCommand(["claude-code", "--on-pending", "ask"], env, out, async () => stdin)).toBe(2);
    expect(errors.join("\n")).toContain("usage: countersign hook claude-code");
  });

  it("is the `countersign hook claude-code` command of the CLI", async () => {
    const denied = await runCli(
      ["hook", "claude-code"],
      recorded("pre-tool-use-bash-force-push", newSession()),
    );
    expect(denied.code).toBe(0);
    expect(output(denied.stdout).hookSpecificOutput).toMatchObject({
      permissionDecision: "deny",
      permissionDecisionReason: "Countersign denied this (policy_denied): force pushes are not allowed",
    });
    const broken = await runCli(["hook", "claude-code"], "{");
    expect(broken).toMatchObject({ code: 2, stdout: "" });
    expect(broken.stderr).toContain("stdin is not JSON");
  });
});

const CLI = join(import.meta.dirname, "../../../server/bin/countersign.js");

/** Runs the real CLI as Claude Code does: hook JSON on stdin, the environment it was given. */
function runCli(
  args: string[],
  stdin: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}
