import { ensureDashboard } from "../../../../scripts/ensure-dashboard.ts";

/** Vitest global setup: the browser tests need the dashboard built from the current sources. */
export default async function setup(): Promise<void> {
  await ensureDashboard({ quiet: true });
}
