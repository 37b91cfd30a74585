import { hash } from "node:crypto";
import { canonicalize } from "./canonical-json.ts";

export function sha256Hex(data: string | Uint8Array): string {
  // The one-shot form: no Hash object per call, which matters on the hot path (several per request).
  return hash("sha256", data, "hex");
}

/** The hash that binds an approval to exact tool arguments: SHA-256 over their RFC 8785 form. */
export function argsHash(args: unknown): string {
  return `sha256:${sha256Hex(canonicalize(args ?? {}))}`;
}
