import type { ChainVerdict } from "@countersign/core";
import type { ServerConfig } from "../config.ts";

/** Recomputes the whole audit hash chain of the store `config` names (`audit verify`, `backup`). */
export async function verifyAuditChain(
  config: Pick<ServerConfig, "dataDir" | "databaseUrl">,
): Promise<ChainVerdict> {
  const { createServices, openStore } = await import("../runtime.ts");
  const store = await openStore(config);
  try {
    return await createServices(store).audit.verify();
  } finally {
    await store.close();
  }
}
