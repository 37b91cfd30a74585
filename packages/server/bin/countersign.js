#!/usr/bin/env node
// Countersign's command line. The sources are TypeScript that Node 24 runs directly.
import { main } from "../src/cli/main.ts";

const code = await main(process.argv.slice(2), process.env, {
  stdout: (text) => process.stdout.write(`${text}\n`),
  stderr: (text) => process.stderr.write(`${text}\n`),
});
process.exitCode = code;
