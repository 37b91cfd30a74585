import type { DashboardServices } from "../dashboard/index.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { ActionsService } from "../services/actions-service.ts";
import type { AuditService } from "../services/audit-service.ts";
import type { GovernanceServices } from "../services/governance.ts";
import type { KeysService } from "../services/keys-service.ts";
import type { RequestsService } from "../services/requests-service.ts";
import type { ReviewersService } from "../services/reviewers-service.ts";
import type { RoutingService } from "../services/routing-service.ts";
import type { SigningKeysService } from "../services/signing-keys-service.ts";
import type { TokensService } from "../services/tokens-service.ts";
import type { Store } from "../storage/store.ts";
import type { WebhooksService } from "../webhooks/service.ts";

export interface Services extends GovernanceServices {
  store: Store;
  keys: KeysService;
  requests: RequestsService;
  reviewers: ReviewersService;
  routing: RoutingService;
  actions: ActionsService;
  audit: AuditService;
  signingKeys: SigningKeysService;
  tokens: TokensService;
  metrics: Metrics;
  webhooks: WebhooksService;
  dashboard: DashboardServices;
}
