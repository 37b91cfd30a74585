// The helpers every sealed webhook value goes through: where the key comes from (services/secret-box.ts,
// shared with the approval-token signing keys), the associated data that binds an endpoint's secrets
// to its row, reading material sealed under a key that may since have been lost, and storing a setting once.

import type { SecretBox, SigningMaterial } from "./secrets.ts";

export {
  insertSettingIfAbsent,
  KEY_FILE_NAME,
  openSecretBox,
  type SecretKeyOptions,
} from "../services/secret-box.ts";

/** How long a rotated-out secret keeps signing beside its replacement, unless the caller says. */
export const DEFAULT_GRACE_SECONDS = 24 * 3600;

/** The material, or undefined when it was sealed under another key. */
export function tryOpen(box: SecretBox, envelope: string, aad: string): SigningMaterial | undefined {
  try {
    return box.openMaterial(envelope, aad);
  } catch {
    return undefined;
  }
}

export function endpointAad(id: string): string {
  return `webhook_endpoints:${id}`;
}
