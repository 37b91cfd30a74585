import type { KeyRecord } from "../repos/keys-repo.ts";

/** A stored agent key record for storage tests (its secret hash is a placeholder, never a real one). */
export function agentKeyRecord(id: string): KeyRecord {
  return {
    id,
    name: id,
    role: "agent",
    secret_hash: `hash-${id}`,
    hint: "cs_agent_x…",
    created_at: "2026-01-01T00:00:00.000Z",
    created_by: null,
    revoked_at: null,
  };
}
