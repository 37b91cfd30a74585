import { useApp } from "../app-context.ts";
import { KillSwitchSection } from "../components/KillSwitchSection.tsx";
import { OnShiftSection } from "../components/OnShiftSection.tsx";
import { PolicySection } from "../components/PolicySection.tsx";
import { WebhooksSection } from "../components/WebhooksSection.tsx";

/** Agents and what governs them. Each section appears only when the server offers its feature. */
export function AgentsPage() {
  const { features, me } = useApp();
  const admin = me.principal.role === "admin";
  return (
    <div className="page">
      <h1 tabIndex={-1}>Agents and governance</h1>
      <div className="cards">
        {features.killSwitch && <KillSwitchSection />}
        {features.policy && <PolicySection />}
        {admin && features.reviewers && <OnShiftSection />}
        {admin && features.webhooks && <WebhooksSection />}
      </div>
    </div>
  );
}
