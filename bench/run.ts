// `npm run bench`: every benchmark, each printing its figures against a baseline measured in the
// same run. Not a test: nothing here passes or fails on speed.
import { runGovernBench } from "./govern-throughput.ts";
import { runGroupCommitBench } from "./group-commit.ts";
import { runCreateThroughputBench } from "./http-throughput.ts";
import { printPolicyEvalTable, runPolicyEvalBench } from "./policy-eval.ts";
import { runWakeLatencyBench } from "./wake-latency.ts";
import { runWebhookBench } from "./webhook-latency.ts";

const only = new Set(process.argv.slice(2));
const want = (name: string) => only.size === 0 || only.has(name);

console.log(`Countersign benchmarks — node ${process.version}, ${new Date().toISOString()}`);
if (want("create")) await runCreateThroughputBench();
if (want("wake")) await runWakeLatencyBench();
if (want("group-commit")) await runGroupCommitBench();
if (want("policy")) printPolicyEvalTable(await runPolicyEvalBench());
if (want("govern")) await runGovernBench();
if (want("webhooks")) await runWebhookBench();
