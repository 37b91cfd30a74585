import type { ServiceDeps } from "../services/deps.ts";
import type { RequestsService } from "../services/requests-service.ts";
import { AccountsService } from "./accounts-service.ts";
import { type DashboardOptions, resolveDashboardOptions } from "./config.ts";
import { EventsService } from "./events-service.ts";
import { SessionsService } from "./sessions-service.ts";

/** The dashboard feature's services: accounts and invites, browser sessions, the event stream. */
export interface DashboardServices {
  options: DashboardOptions;
  accounts: AccountsService;
  sessions: SessionsService;
  events: EventsService;
}

export function createDashboard(
  deps: ServiceDeps,
  requests: RequestsService,
  options: DashboardOptions = resolveDashboardOptions(),
): DashboardServices {
  const sessions = new SessionsService(deps, options);
  return {
    options,
    sessions,
    accounts: new AccountsService(deps, options, sessions),
    events: new EventsService(deps.store, requests, options),
  };
}
