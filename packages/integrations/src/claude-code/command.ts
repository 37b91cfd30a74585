import { parseArgs } from "node:util";
import { runClaudeCodeHook } from "./hook.ts";

/*
 * The command line around the hook: `countersign hook claude-code [--wait-seconds N]
 * [--on-pending defer|deny]`, reading the hook's JSON from stdin and printing its answer.
 */

export interface CommandOutput {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const USAGE =
  "usage: countersign hook claude-code [--wait-seconds N] [--on-pending defer|deny] < hook-input.json";

/** Runs `countersign hook …` (argv after `hook`); resolves with the exit code. */
export async function hookCommand(
  argv: string[],
  env: Record<string, string | undefined>,
  out: CommandOutput,
  readInput: () => Promise<string> = readStdin,
): Promise<number> {
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(argv);
  } catch (error) {
    out.stderr(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  if (parsed.positionals[0] !== "claude-code" || parsed.positionals.length !== 1) {
    out.stderr(USAGE);
    return 2;
  }
  const waitText = parsed.values["wait-seconds"];
  const onPending = parsed.values["on-pending"];
  if (onPending !== undefined && onPending !== "defer" && onPending !== "deny") {
    out.stderr(`--on-pending must be defer or deny\n${USAGE}`);
    return 2;
  }
  const result = await runClaudeCodeHook({
    stdin: await readInput(),
    env,
    ...(waitText !== undefined ? { waitSeconds: Number(waitText) } : {}),
    ...(onPending !== undefined ? { onPending } : {}),
  });
  if (result.stdout) out.stdout(result.stdout);
  if (result.stderr) out.stderr(result.stderr);
  return result.exitCode;
}

function parseFlags(argv: string[]) {
  return parseArgs({
    args: argv,
    options: { "wait-seconds": { type: "string" }, "on-pending": { type: "string" } },
    allowPositionals: true,
    strict: true,
  });
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return "";
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin)
    chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString("utf8");
}
