import { readFile } from "node:fs/promises";
import {
  type CompiledPolicy,
  compilePolicy,
  PolicyError,
  type PolicyProblem,
  runPolicyCases,
} from "@countersign/core";

/**
 * `countersign policy check <file>` and `countersign policy test <file> <cases>`. Each returns
 * the process exit code: 0 when everything is fine, 1 otherwise. Problems print as
 * `file:line:column: path: message`, the form editors and CI annotators recognise.
 */

export interface CommandOutput {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export async function policyCheck(file: string, out: CommandOutput): Promise<number> {
  const policy = await loadPolicy(file, out);
  if (!policy) return 1;
  const n = policy.rules.length;
  out.stdout(`${file}: ok, ${n} rule${n === 1 ? "" : "s"}, version ${policy.version}`);
  return 0;
}

export async function policyTest(file: string, casesFile: string, out: CommandOutput): Promise<number> {
  const policy = await loadPolicy(file, out);
  if (!policy) return 1;
  const casesText = await readText(casesFile, out);
  if (casesText === undefined) return 1;
  let report: ReturnType<typeof runPolicyCases>;
  try {
    report = runPolicyCases(policy, casesText);
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    printProblems(casesFile, err.problems, out);
    return 1;
  }
  for (const result of report.results) {
    const where = result.line === null ? casesFile : `${casesFile}:${result.line}`;
    if (result.passed) {
      out.stdout(`PASS ${result.name}`);
      continue;
    }
    out.stdout(`FAIL ${result.name} (${where})`);
    for (const line of result.diff.split("\n")) out.stdout(`     ${line}`);
    const a = result.actual;
    out.stdout(`     decided by rule "${a.rule_id}": ${a.reason}`);
  }
  out.stdout(`${report.passed} passed, ${report.failed} failed, ${report.total} total`);
  return report.failed === 0 ? 0 : 1;
}

async function loadPolicy(file: string, out: CommandOutput): Promise<CompiledPolicy | undefined> {
  const text = await readText(file, out);
  if (text === undefined) return undefined;
  try {
    return compilePolicy(text);
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    printProblems(file, err.problems, out);
    return undefined;
  }
}

async function readText(file: string, out: CommandOutput): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    out.stderr(`${file}: cannot read: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}

function printProblems(file: string, problems: readonly PolicyProblem[], out: CommandOutput): void {
  for (const p of problems) {
    out.stderr(`${file}:${p.line ?? 1}:${p.column ?? 1}: ${p.path}: ${p.message}`);
  }
  out.stderr(`${file}: ${problems.length} problem${problems.length === 1 ? "" : "s"}`);
}
