/**
 * Policy evaluation cost: Countersign's compiled policy against Cedar's wasm engine evaluating an
 * equivalent, pre-parsed policy set in the same process. Both see a 100-rule policy (exact tool
 * names, globs, argument thresholds, pattern tests) and the same mix of calls.
 *
 * The translation keeps the work equivalent rather than the semantics identical: Cedar has no
 * regular expressions (pattern rules use `like "*@domain.com"`, the Countersign side an anchored
 * regex), Cedar's `*` crosses dots (the inputs avoid names where that matters) and Cedar has two
 * decisions, so `approval_required` rules become `forbid` policies that the caller tells apart from
 * denials by the determining policy ids, as an integration would.
 *
 * Figures are per decision, the median over batches, measured with process.hrtime.bigint().
 */
import { compilePolicy, type PolicyInput } from "@countersign/core";
import { fmt, summarise, table } from "./stats.ts";

type Kind = "exact" | "glob" | "threshold" | "pattern";
type Decision = "allow" | "deny" | "approval_required";

interface RuleDef {
  id: string;
  kind: Kind;
  tool: string;
  decision: Decision;
  amount?: number;
  domain?: string;
}

const DECISIONS: Decision[] = ["allow", "approval_required", "deny"];

/** 100 rules over 20 services: 40 exact, 20 glob, 25 threshold, 15 pattern. */
function buildRules(): RuleDef[] {
  const rules: RuleDef[] = [];
  for (let i = 0; i < 40; i++) {
    rules.push({ id: `exact-${i}`, kind: "exact", tool: `svc${i % 20}.op${i}`, decision: "allow" });
  }
  for (let i = 0; i < 20; i++) {
    rules.push({
      id: `glob-${i}`,
      kind: "glob",
      tool: i % 2 === 0 ? `svc${i}.*` : `svc${i}.bulk_*`,
      decision: DECISIONS[i % 3] as Decision,
    });
  }
  for (let i = 0; i < 25; i++) {
    rules.push({
      id: `threshold-${i}`,
      kind: "threshold",
      tool: `pay${i % 5}.transfer`,
      decision: i % 4 === 0 ? "deny" : "approval_required",
      amount: 1000 * (i + 1),
    });
  }
  for (let i = 0; i < 15; i++) {
    rules.push({
      id: `pattern-${i}`,
      kind: "pattern",
      tool: `mail${i % 3}.send`,
      decision: i % 5 === 0 ? "deny" : "approval_required",
      domain: `partner${i}.example`,
    });
  }
  return rules;
}

function toYaml(rules: RuleDef[]): string {
  const lines = ["version: 1", "default: { decision: deny, reason: no rule matched }", "rules:"];
  for (const r of rules) {
    lines.push(`  - id: ${r.id}`, `    decision: ${r.decision}`, "    match:", `      tool: "${r.tool}"`);
    if (r.kind === "threshold") lines.push(`      args: "args.amount > ${r.amount}"`);
    if (r.kind === "pattern") {
      lines.push(`      args: "args.to matches '@${(r.domain as string).replaceAll(".", "\\\\.")}$'"`);
    }
  }
  return lines.join("\n");
}

function toCedar(rules: RuleDef[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of rules) {
    const effect = r.decision === "allow" ? "permit" : "forbid";
    const conds = [r.kind === "glob" ? `context.tool like "${r.tool}"` : `context.tool == "${r.tool}"`];
    if (r.kind === "threshold") conds.push(`context.args has amount && context.args.amount > ${r.amount}`);
    if (r.kind === "pattern") conds.push(`context.args has to && context.args.to like "*@${r.domain}"`);
    out[r.id] = `${effect}(principal, action, resource) when { ${conds.join(" && ")} };`;
  }
  return out;
}

function buildInputs(): PolicyInput[] {
  const call = (tool: string, args: Record<string, unknown>): PolicyInput => ({
    tool,
    args,
    agent_id: "bench-agent",
    environment: "production",
  });
  return [
    call("svc3.op3", { id: 1 }),
    call("svc7.op27", { id: 2 }),
    call("svc0.read", { id: 3 }),
    call("svc3.bulk_delete", { count: 500 }),
    call("svc12.export", {}),
    call("pay1.transfer", { amount: 250 }),
    call("pay2.transfer", { amount: 7_500 }),
    call("pay4.transfer", { amount: 40_000 }),
    call("mail0.send", { to: "ann@partner3.example", subject: "hi" }),
    call("mail1.send", { to: "bob@partner10.example", subject: "hi" }),
    call("mail2.send", { to: "eve@elsewhere.example", subject: "hi" }),
    call("unknown.tool", { x: 1 }),
    call("svc19.op39", { id: 4 }),
    call("svc5.bulk_update", { count: 5 }),
    call("pay0.transfer", { amount: 1_000 }),
    call("search.query", { q: "policy" }),
  ];
}

/** Runs `warmup` calls, then `batches` batches of `batchSize`; returns the median µs per call. */
function measure(run: (i: number) => unknown, warmup: number, batches: number, batchSize: number): number {
  let sink = 0;
  for (let i = 0; i < warmup; i++) if (run(i)) sink++;
  const perCall: number[] = [];
  for (let b = 0; b < batches; b++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < batchSize; i++) if (run(i)) sink++;
    perCall.push(Number(process.hrtime.bigint() - start) / 1000 / batchSize);
  }
  // Keeps the results observable so the calls cannot be optimised away.
  if (sink < 0) console.log(sink);
  return summarise(perCall).p50;
}

export interface PolicyEvalBenchResult {
  ours_median_us: number;
  ours_per_sec: number;
  cedar_median_us: number;
  cedar_per_sec: number;
  /** Cedar's median over ours: how many times faster Countersign's engine decides. */
  ratio: number;
}

export async function runPolicyEvalBench(): Promise<PolicyEvalBenchResult> {
  const rules = buildRules();
  const inputs = buildInputs();
  const policy = compilePolicy(toYaml(rules));
  if (policy.rules.length !== 100) throw new Error(`expected 100 rules, compiled ${policy.rules.length}`);
  const n = inputs.length;
  const ours = measure(
    (i) => policy.evaluate(inputs[i % n] as PolicyInput).decision === "allow",
    50_000,
    200,
    2_000,
  );

  const cedar = await import("@cedar-policy/cedar-wasm/nodejs");
  const setId = "countersign-bench";
  const parsed = cedar.preparsePolicySet(setId, { staticPolicies: toCedar(rules) });
  if (parsed.type !== "success")
    throw new Error(`cedar could not parse the policy set: ${JSON.stringify(parsed)}`);
  const denyIds = new Set(rules.filter((r) => r.decision === "deny").map((r) => r.id));
  const calls = inputs.map((input) => ({
    principal: { type: "Agent", id: input.agent_id ?? "" },
    action: { type: "Action", id: "call" },
    resource: { type: "Tool", id: input.tool },
    context: { tool: input.tool, args: input.args as Record<string, string | number> },
    preparsedPolicySetId: setId,
    entities: [],
  }));
  const cedarDecide = (i: number): Decision => {
    const answer = cedar.statefulIsAuthorized(calls[i % n] as (typeof calls)[number]);
    if (answer.type !== "success") throw new Error(JSON.stringify(answer.errors));
    const { decision, diagnostics } = answer.response;
    if (decision === "allow") return "allow";
    // No determining policy means nothing matched: the default deny.
    if (diagnostics.reason.length === 0 || diagnostics.reason.some((id) => denyIds.has(id))) return "deny";
    return "approval_required";
  };
  checkAgreement(inputs, policy.evaluate, cedarDecide);
  const cedarUs = measure((i) => cedarDecide(i) === "allow", 2_000, 100, 200);

  return {
    ours_median_us: ours,
    ours_per_sec: Math.round(1e6 / ours),
    cedar_median_us: cedarUs,
    cedar_per_sec: Math.round(1e6 / cedarUs),
    ratio: cedarUs / ours,
  };
}

/** Both engines must reach the same decisions, or the comparison would be meaningless. */
function checkAgreement(
  inputs: PolicyInput[],
  ours: (input: PolicyInput) => { decision: Decision },
  cedar: (i: number) => Decision,
): void {
  inputs.forEach((input, i) => {
    const a = ours(input).decision;
    const b = cedar(i);
    if (a !== b) throw new Error(`engines disagree on ${input.tool}: countersign ${a}, cedar ${b}`);
  });
}

export function printPolicyEvalTable(r: PolicyEvalBenchResult): void {
  console.log("\nIn-process policy evaluation, 100 rules (median per decision)");
  console.log(
    table([
      {
        engine: "countersign (compiled)",
        "median µs": fmt(r.ours_median_us, 3),
        "decisions/s": r.ours_per_sec,
      },
      {
        engine: "cedar-wasm (pre-parsed)",
        "median µs": fmt(r.cedar_median_us, 3),
        "decisions/s": r.cedar_per_sec,
      },
    ]),
  );
  console.log(
    `ratio: countersign decides ${fmt(r.ratio, 1)}× faster than cedar-wasm (same policy, same calls)`,
  );
}

if (import.meta.main) {
  printPolicyEvalTable(await runPolicyEvalBench());
}
