import { parseArgs } from "node:util";
import type { ServerConfig } from "../config.ts";
import { STORAGE_FLAGS } from "./storage-flags.ts";

// Commands load what they need when they run: `hook claude-code` runs on every tool call of an
// agent and must not pay for loading the server, storage drivers and policy engine.
const runtime = () => import("../runtime.ts");
const configModule = () => import("../config.ts");

async function resolve(
  flags: Record<string, string | undefined>,
  env: NodeJS.ProcessEnv,
): Promise<ServerConfig> {
  return (await configModule()).resolveConfig(flags, env);
}

export interface Output {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const USAGE = `Usage: countersign <command> [options]

Commands:
  serve                         start the server
      --port N  --host H  --data DIR  --database-url URL  --policy FILE  --log-level LEVEL
      --outbound-allowlist CIDRS/HOSTS  (webhook endpoints allowed on private networks)
      --callback-allowlist CIDRS/HOSTS  (agents' callback_url targets allowed on private networks)
  keys create --role R --name N create an API key (admin | agent | reviewer) in the configured store
  audit verify                  recompute the audit hash chain; exit 1 naming the first broken seq
  backup --to DIR               a checked, consistent copy of the SQLite database, even while serving
      --include-key-file               (also copy the secret key file; by default it is left out)
  secrets recover [--apply]     after losing the secret key: retire the signing keys it sealed
  policy check FILE             validate a policy file; problems print as file:line:column
  policy test FILE --cases F    run expected-decision fixtures against a policy
  hook claude-code              answer a Claude Code PreToolUse/PermissionRequest hook (JSON on stdin)
      --wait-seconds N  --on-pending defer|deny      (COUNTERSIGN_URL, COUNTERSIGN_API_KEY)
  help                          show this text

Storage options (--data, --database-url) and their environment variables apply to every command.`;

/** Runs a CLI command and returns its exit code; long-running `serve` resolves only on shutdown. */
export async function main(argv: string[], env: NodeJS.ProcessEnv, out: Output): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "serve":
        return await serve(rest, env, out);
      case "keys":
        return await keys(rest, env, out);
      case "audit":
        return await audit(rest, env, out);
      case "backup":
        return await (await import("./backup-command.ts")).backupCommand(rest, env, out, (flags) =>
          resolve(flags, env),
        );
      case "secrets":
        return await (await import("./secrets-commands.ts")).secretsCommand(rest, env, out, (flags) =>
          resolve(flags, env),
        );
      case "policy":
        return await policy(rest, out);
      case "hook":
        // Loaded on demand: a hook runs on every tool call and needs none of the server.
        return await (await import("@countersign/integrations/claude-code")).hookCommand(rest, env, out);
      case undefined:
      case "help":
      case "--help":
      case "-h":
        out.stdout(USAGE);
        return 0;
      default:
        out.stderr(`unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    if (
      (error instanceof Error && error.name === "ConfigError") ||
      (error instanceof TypeError && "code" in error)
    ) {
      out.stderr(`countersign: ${error.message}`);
      return 2;
    }
    out.stderr(`countersign: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

async function serve(args: string[], env: NodeJS.ProcessEnv, out: Output): Promise<number> {
  const { parseServerFlags, resolveConfig } = await configModule();
  const config = resolveConfig(parseServerFlags(args), env);
  const { startServer } = await import("../server.ts");
  const server = await startServer(config);
  out.stdout(`Countersign is listening on ${server.url} (storage: ${server.services.store.dialect})`);
  if (server.createdAdminKey && !config.bootstrapAdminKey) {
    out.stdout(
      `\nAn admin key was created. It is shown only this once; keep it safe:\n\n  ${server.createdAdminKey}\n`,
    );
    out.stdout(
      `The reviewer dashboard is at ${server.url}/ . To get your first account, invite yourself:\n\n` +
        `  curl -s ${server.url}/v1/invites -H "authorization: Bearer ${server.createdAdminKey}" \\\n` +
        `    -H 'content-type: application/json' -d '{"email":"you@example.com","role":"admin"}'\n\n` +
        "and open the url it returns.\n",
    );
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      server.app.log.info({ signal }, "shutting down");
      server.close().then(resolve, resolve);
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
  return 0;
}

function storageArgs(args: string[]) {
  return parseArgs({ args, options: STORAGE_FLAGS, allowPositionals: true, strict: true });
}

async function keys(args: string[], env: NodeJS.ProcessEnv, out: Output): Promise<number> {
  const parsed = parseArgs({
    args,
    options: { ...STORAGE_FLAGS, role: { type: "string" }, name: { type: "string" } },
    allowPositionals: true,
    strict: true,
  });
  if (parsed.positionals[0] !== "create") {
    out.stderr("usage: countersign keys create --role <admin|agent|reviewer> --name <name>");
    return 2;
  }
  const { isRole } = await import("@countersign/core");
  const role = parsed.values.role;
  const name = parsed.values.name;
  if (!isRole(role) || !name) {
    out.stderr("usage: countersign keys create --role <admin|agent|reviewer> --name <name>");
    return 2;
  }
  const { createServices, openStore } = await runtime();
  const store = await openStore(await resolve(parsed.values, env));
  try {
    const created = await createServices(store).keys.create({ role, name }, null);
    out.stdout(
      `Created ${role} key ${created.key.id} (${name}). It is shown only this once:\n\n  ${created.secret}\n`,
    );
    return 0;
  } finally {
    await store.close();
  }
}

async function audit(args: string[], env: NodeJS.ProcessEnv, out: Output): Promise<number> {
  const parsed = storageArgs(args);
  if (parsed.positionals[0] !== "verify") {
    out.stderr("usage: countersign audit verify [--data DIR | --database-url URL]");
    return 2;
  }
  const { verifyAuditChain } = await import("./audit-check.ts");
  const verdict = await verifyAuditChain(await resolve(parsed.values, env));
  if (verdict.ok) {
    out.stdout(`audit chain intact: ${verdict.entries} entries, head ${verdict.head_hash}`);
    return 0;
  }
  out.stderr(`audit chain BROKEN at seq ${verdict.first_broken_seq}: ${verdict.reason}`);
  return 1;
}

async function policy(args: string[], out: Output): Promise<number> {
  const parsed = parseArgs({
    args,
    options: { cases: { type: "string" } },
    allowPositionals: true,
    strict: true,
  });
  const [sub, file] = parsed.positionals;
  const { policyCheck, policyTest } = await import("./policy-commands.ts");
  if (sub === "check" && file) return policyCheck(file, out);
  if (sub === "test" && file && parsed.values.cases) return policyTest(file, parsed.values.cases, out);
  out.stderr("usage: countersign policy check <file> | countersign policy test <file> --cases <cases.yaml>");
  return 2;
}
