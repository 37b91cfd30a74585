// Baseline: a bare Fastify endpoint that parses the same JSON body and answers, with no auth,
// validation, storage or durability. Ratios in the benchmarks are against this.
import Fastify from "fastify";

const app = Fastify({ logger: false });
app.post("/v1/requests", async (req, reply) =>
  reply.code(201).send({ ok: true, received: req.body !== null }),
);
app.post("/v1/govern", async (req, reply) =>
  reply.code(200).send({ decision: "allow", received: req.body !== null }),
);
const url = await app.listen({ port: 0, host: "127.0.0.1" });
process.stdout.write(`${JSON.stringify({ url })}\n`);
process.once("SIGTERM", () => void app.close().then(() => process.exit(0)));
