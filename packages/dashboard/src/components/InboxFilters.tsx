import type { InboxFilter } from "../lib/inbox.ts";
import { STATUSES } from "../lib/types.ts";
import { statusLabel } from "./Badges.tsx";

export function InboxFilters({
  filter,
  roles,
  agents,
  routing,
  compact,
  onChange,
}: {
  filter: InboxFilter;
  roles: string[];
  agents: string[];
  /** Show the "routed to me" scope only when requests carry routing. */
  routing: boolean;
  /** Narrow screens: search and status stay in view, the rest folds away. */
  compact: boolean;
  onChange: (next: InboxFilter) => void;
}) {
  const set = <K extends keyof InboxFilter>(key: K, value: InboxFilter[K]) =>
    onChange({ ...filter, [key]: value });
  const active = [routing && !filter.mine, filter.role, filter.agent, filter.correlation].filter(
    Boolean,
  ).length;
  const more = (
    <>
      {routing && (
        <div className="field">
          <label htmlFor="f-scope">Show</label>
          <select
            id="f-scope"
            value={filter.mine ? "mine" : "all"}
            onChange={(e) => set("mine", e.target.value === "mine")}
          >
            <option value="mine">Routed to me</option>
            <option value="all">All I can see</option>
          </select>
        </div>
      )}
      <div className="field">
        <label htmlFor="f-role">Role</label>
        <select id="f-role" value={filter.role} onChange={(e) => set("role", e.target.value)}>
          <option value="">Any role</option>
          {roles.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="f-agent">Agent</label>
        <select id="f-agent" value={filter.agent} onChange={(e) => set("agent", e.target.value)}>
          <option value="">Any agent</option>
          {agents.map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="f-correlation">Case id</label>
        <input
          id="f-correlation"
          type="text"
          spellCheck={false}
          value={filter.correlation}
          onChange={(e) => set("correlation", e.target.value)}
        />
      </div>
    </>
  );
  return (
    <form className="filters" aria-label="Filter requests" onSubmit={(e) => e.preventDefault()}>
      <div className="field search-field">
        <label htmlFor="f-search">Search</label>
        <input
          id="f-search"
          type="search"
          placeholder="question, tool, id…"
          value={filter.search}
          onChange={(e) => set("search", e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor="f-status">Status</label>
        <select
          id="f-status"
          value={filter.status}
          onChange={(e) => set("status", e.target.value as InboxFilter["status"])}
        >
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {statusLabel(s)}
            </option>
          ))}
          <option value="all">Any status</option>
        </select>
      </div>
      {compact ? (
        <details className="more-filters" open={active > 0}>
          <summary>More filters{active > 0 ? ` (${active} on)` : ""}</summary>
          <div className="filters-more">{more}</div>
        </details>
      ) : (
        more
      )}
    </form>
  );
}
