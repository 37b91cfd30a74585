import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { policyCheck, policyTest } from "./policy-commands.ts";

const examples = fileURLToPath(new URL("../../../../examples/", import.meta.url));

function capture() {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    out: { stdout: (s: string) => stdout.push(s), stderr: (s: string) => stderr.push(s) },
    stdout,
    stderr,
  };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "countersign-policy-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

const POLICY = `version: 1
rules:
  - id: reads
    match: { tool: "*.read" }
    decision: allow
  - id: writes
    match: { tool: "*.write" }
    decision: approval_required
`;

describe("policyCheck", () => {
  it("prints the rule count and version hash of a valid policy and exits 0", async () => {
    const path = await file("ok.yaml", POLICY);
    const { out, stdout, stderr } = capture();
    expect(await policyCheck(path, out)).toBe(0);
    expect(stderr).toEqual([]);
    expect(stdout).toEqual([
      expect.stringMatching(new RegExp(`^${path}: ok, 2 rules, version sha256:[0-9a-f]{64}$`)),
    ]);
  });

  it("prints file:line:col for every problem and exits 1", async () => {
    const path = await file(
      "bad.yaml",
      "version: 1\nrules:\n  - id: a\n    match: { tool: x }\n    decision: perhaps\n    colour: red\n",
    );
    const { out, stdout, stderr } = capture();
    expect(await policyCheck(path, out)).toBe(1);
    expect(stdout).toEqual([]);
    expect(stderr).toEqual([
      `${path}:5:15: $.rules[0].decision: expected one of allow, approval_required, deny, got "perhaps"`,
      `${path}:6:5: $.rules[0].colour: unknown key "colour" (expected one of: id, description, precedence, match, decision, risk, reason, required_roles, required_approvals, ttl_seconds, priority, require_distinct_roles, escalate_after_seconds)`,
      `${path}: 2 problems`,
    ]);
  });

  it("reports an unreadable file and exits 1", async () => {
    const { out, stderr } = capture();
    expect(await policyCheck(join(dir, "missing.yaml"), out)).toBe(1);
    expect(stderr[0]).toMatch(/missing\.yaml: cannot read: .*ENOENT/);
  });

  it("accepts the example policy", async () => {
    const { out, stdout } = capture();
    expect(await policyCheck(join(examples, "policy.yaml"), out)).toBe(0);
    expect(stdout[0]).toMatch(/: ok, \d+ rules, version sha256:/);
  });
});

describe("policyTest", () => {
  it("prints PASS per case and a summary, exit 0 when all pass", async () => {
    const policy = await file("p.yaml", POLICY);
    const cases = await file(
      "c.yaml",
      "cases:\n  - name: read\n    input: { tool: db.read }\n    expect: { decision: allow, rule_id: reads }\n",
    );
    const { out, stdout } = capture();
    expect(await policyTest(policy, cases, out)).toBe(0);
    expect(stdout).toEqual(["PASS read", "1 passed, 0 failed, 1 total"]);
  });

  it("prints FAIL with the case's line and a diff, exit 1", async () => {
    const policy = await file("p2.yaml", POLICY);
    const cases = await file(
      "c2.yaml",
      [
        "cases:",
        "  - name: read",
        "    input: { tool: db.read }",
        "    expect: { decision: allow }",
        "  - name: write is allowed?",
        "    input: { tool: db.write }",
        "    expect: { decision: allow, rule_id: writes }",
      ].join("\n"),
    );
    const { out, stdout } = capture();
    expect(await policyTest(policy, cases, out)).toBe(1);
    expect(stdout).toEqual([
      "PASS read",
      `FAIL write is allowed? (${cases}:5)`,
      '     decision: expected "allow", got "approval_required"',
      '     decided by rule "writes": matched rule "writes"',
      "1 passed, 1 failed, 2 total",
    ]);
  });

  it("reports problems in the cases file with their positions", async () => {
    const policy = await file("p3.yaml", POLICY);
    const cases = await file(
      "c3.yaml",
      "cases:\n  - name: x\n    input: { tool: t }\n    expect: { decison: allow }\n",
    );
    const { out, stderr } = capture();
    expect(await policyTest(policy, cases, out)).toBe(1);
    expect(stderr).toContain(
      `${cases}:4:15: $.cases[0].expect.decison: unknown key "decison" (expected one of: decision, rule_id, reason, risk, stop_reason, required_roles, required_approvals, ttl_seconds, priority, require_distinct_roles, escalate_after_seconds)`,
    );
  });

  it("does not run cases against an invalid policy", async () => {
    const policy = await file("p4.yaml", "version: 3\n");
    const cases = await file("c4.yaml", "cases: []\n");
    const { out, stdout, stderr } = capture();
    expect(await policyTest(policy, cases, out)).toBe(1);
    expect(stdout).toEqual([]);
    expect(stderr[0]).toBe(
      `${policy}:1:10: $.version: version must be 1 (the only policy language version so far)`,
    );
  });

  it("passes the example fixtures", async () => {
    const { out, stdout } = capture();
    const code = await policyTest(join(examples, "policy.yaml"), join(examples, "policy.cases.yaml"), out);
    expect(stdout.filter((l) => l.startsWith("FAIL"))).toEqual([]);
    expect(code).toBe(0);
    expect(stdout.at(-1)).toMatch(/^\d+ passed, 0 failed, \d+ total$/);
  });
});
