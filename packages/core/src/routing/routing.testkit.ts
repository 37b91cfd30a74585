import type { RoutingReviewer, Shift } from "./types.ts";

/** Test helpers for routing: reviewers with sensible defaults. Not exported from the package. */

export const ALWAYS: Shift = {
  days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
  start: "00:00",
  end: "24:00",
};
export const OFFICE_HOURS: Shift = {
  days: ["mon", "tue", "wed", "thu", "fri"],
  start: "09:00",
  end: "17:00",
};

export function reviewer(name: string, fields: Partial<RoutingReviewer> = {}): RoutingReviewer {
  return {
    id: `rvw_${name}`,
    name,
    roles: [],
    fallback_for: [],
    timezone: "UTC",
    shifts: [ALWAYS],
    overrides: [],
    key_id: `key_${name}`,
    owns_agent_keys: [],
    ...fields,
  };
}
