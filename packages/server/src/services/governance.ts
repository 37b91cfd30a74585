import type { GovernService } from "./govern-service.ts";
import type { GrantsService } from "./grants-service.ts";
import type { KillSwitchService } from "./kill-switch-service.ts";
import type { PolicyService } from "./policy-service.ts";

export interface GovernanceServices {
  policy: PolicyService;
  govern: GovernService;
  killSwitch: KillSwitchService;
  grants: GrantsService;
}
