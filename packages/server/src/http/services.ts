import type { ActionsService } from "../services/actions-service.ts";
import type { AuditService } from "../services/audit-service.ts";
import type { KeysService } from "../services/keys-service.ts";
import type { RequestsService } from "../services/requests-service.ts";
import type { Store } from "../storage/store.ts";

export interface Services {
  store: Store;
  keys: KeysService;
  requests: RequestsService;
  actions: ActionsService;
  audit: AuditService;
}
