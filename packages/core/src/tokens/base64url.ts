/**
 * Strict base64url (RFC 4648 §5, unpadded) for token segments.
 *
 * Node's decoder silently skips characters it does not know, so two different strings could decode
 * to the same bytes. Re-encoding and comparing makes each segment have exactly one spelling: a
 * token cannot be altered into a second, still-valid token string.
 */
export function encodeBase64url(data: Uint8Array | string): string {
  return Buffer.from(data).toString("base64url");
}

/** Decoded bytes, or `undefined` when `text` is not the canonical base64url spelling of anything. */
export function decodeBase64url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  const bytes = Buffer.from(text, "base64url");
  if (bytes.toString("base64url") !== text) return undefined;
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
