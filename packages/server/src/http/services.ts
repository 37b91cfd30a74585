import type { ActionsService } from "../services/actions-service.ts";
import type { AuditService } from "../services/audit-service.ts";
import type { GovernanceServices } from "../services/governance.ts";
import type { KeysService } from "../services/keys-service.ts";
import type { RequestsService } from "../services/requests-service.ts";
import type { SigningKeysService } from "../services/signing-keys-service.ts";
import type { TokensService } from "../services/tokens-service.ts";
import type { Store } from "../storage/store.ts";

export interface Services extends GovernanceServices {
  store: Store;
  keys: KeysService;
  requests: RequestsService;
  actions: ActionsService;
  audit: AuditService;
  signingKeys: SigningKeysService;
  tokens: TokensService;
}
