import { type MouseEvent, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { isTypingTarget, useApp, useLive, useLocation, useMedia } from "../app-context.ts";
import type { Command } from "../components/DecisionPanel.tsx";
import { InboxFilters } from "../components/InboxFilters.tsx";
import { RequestList } from "../components/RequestList.tsx";
import { describeError } from "../lib/api.ts";
import { agentLabel, filterFromQuery, filterToQuery, type InboxFilter, selectInbox } from "../lib/inbox.ts";
import { navigate, requestPath } from "../lib/router.ts";
import { RequestView } from "./RequestView.tsx";

/** Pending requests routed to me, most urgent first, live; a preview beside the list on wide screens. */
export function Inbox() {
  const { me } = useApp();
  const live = useLive();
  const { search } = useLocation();
  const isAdmin = me.principal.role === "admin";
  const filter = useMemo(() => {
    const f = filterFromQuery(search);
    // Admins oversee everything by default; reviewers see their own work.
    return new URLSearchParams(search).has("scope") ? f : { ...f, mine: !isAdmin };
  }, [search, isAdmin]);
  const version = live.getVersion();
  const me_ = me.principal.key_id;
  // biome-ignore lint/correctness/useExhaustiveDependencies: the store mutates in place; its version says when
  const items = useMemo(() => selectInbox(live.requests.values(), filter, me_), [version, filter, me_, live]);
  // Requests I may see but that routing gave to someone else (off shift, another tier).
  // biome-ignore lint/correctness/useExhaustiveDependencies: as above
  const others = useMemo(
    () =>
      filter.mine
        ? selectInbox(live.requests.values(), { ...filter, mine: false }, me_).length - items.length
        : 0,
    [version, filter, me_, live, items],
  );
  // biome-ignore lint/correctness/useExhaustiveDependencies: as above
  const choices = useMemo(() => {
    const roles = new Set<string>();
    const agents = new Set<string>();
    let routing = false;
    for (const r of live.requests.values()) {
      for (const role of r.required_roles) roles.add(role);
      agents.add(agentLabel(r));
      if (r.routing) routing = true;
    }
    return { roles: [...roles].sort(), agents: [...agents].sort(), routing };
  }, [version, live]);

  const [listError, setListError] = useState<string | null>(null);
  useEffect(() => {
    if (filter.status === "pending") return;
    setListError(null);
    live
      .loadList({ status: filter.status, role: filter.role, correlation_id: filter.correlation.trim() })
      .catch((e) => setListError(describeError(e)));
  }, [live, filter.status, filter.role, filter.correlation]);

  const setFilter = (next: InboxFilter) => navigate(`/${filterToQuery({ ...next })}`, { replace: true });

  const wide = useMedia("(min-width: 960px)");
  const [selectedId, setSelectedId] = useState<string | null>(null);
  // When the selected request leaves the list (decided), the next one takes its place.
  const lastIndex = useRef(0);
  const found = items.findIndex((r) => r.id === selectedId);
  const index = found >= 0 ? found : Math.min(lastIndex.current, Math.max(0, items.length - 1));
  lastIndex.current = index;
  const selected = items[index] ?? null;
  const [command, setCommand] = useState<Command | null>(null);

  const onPick = useCallback(
    (id: string, event: MouseEvent<HTMLAnchorElement>) => {
      if (!wide) return; // phones open the request's own page
      event.preventDefault();
      setSelectedId(id);
    },
    [wide],
  );

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (isTypingTarget(event)) return;
      const move = (delta: number) => {
        const next = items[Math.min(items.length - 1, Math.max(0, index + delta))];
        if (next) setSelectedId(next.id);
        event.preventDefault();
      };
      switch (event.key) {
        case "j":
        case "ArrowDown":
          if (event.key === "ArrowDown" && document.activeElement?.closest(".list-scroll") === null) return;
          move(1);
          break;
        case "k":
        case "ArrowUp":
          if (event.key === "ArrowUp" && document.activeElement?.closest(".list-scroll") === null) return;
          move(-1);
          break;
        case "Enter":
        case "o":
          if (event.key === "Enter" && document.activeElement !== document.body) return;
          if (selected) navigate(requestPath(selected.id));
          break;
        case "a":
        case "r":
        case "e":
          if (!selected) return;
          event.preventDefault();
          if (wide)
            setCommand((c) => ({ kind: event.key as Command["kind"], n: (c?.n ?? 0) + 1, id: selected.id }));
          else navigate(`${requestPath(selected.id)}?do=${event.key}`);
          break;
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [items, index, selected, wide]);

  const heading = filter.status === "pending" ? "Inbox" : "Requests";
  return (
    <div className={wide ? "inbox wide" : "inbox"}>
      <section className="inbox-list" aria-labelledby="inbox-title">
        <div className="inbox-head">
          <h1 id="inbox-title" tabIndex={-1}>
            {heading} <span className="count">{items.length}</span>
          </h1>
          <p className="shortcuts" aria-hidden={!wide}>
            <kbd>j</kbd>/<kbd>k</kbd> move · <kbd>a</kbd> approve · <kbd>r</kbd> reject · <kbd>e</kbd> edit
          </p>
        </div>
        <InboxFilters
          compact={!wide}
          filter={filter}
          roles={choices.roles}
          agents={choices.agents}
          routing={choices.routing}
          onChange={setFilter}
        />
        {others > 0 && (
          <p className="note">
            {others} more you may decide {others === 1 ? "is" : "are"} routed to others.{" "}
            <button type="button" className="link" onClick={() => setFilter({ ...filter, mine: false })}>
              Show all
            </button>
          </p>
        )}
        {live.loadError && (
          <p className="error" role="alert">
            {live.loadError}
          </p>
        )}
        {listError && (
          <p className="error" role="alert">
            {listError}
          </p>
        )}
        {!live.pendingLoaded && !live.loadError ? (
          <p className="muted">Loading…</p>
        ) : items.length === 0 ? (
          <p className="empty">
            {filter.status === "pending"
              ? "Nothing waits for you. New requests appear here as they arrive."
              : "No requests match."}
          </p>
        ) : (
          <RequestList
            items={items}
            selectedId={selected?.id ?? null}
            onPick={onPick}
            label={`${heading}: ${items.length} requests`}
          />
        )}
      </section>
      {wide && (
        <section className="inbox-detail" aria-label="Selected request">
          {selected ? (
            <RequestView key={selected.id} id={selected.id} command={command} embedded />
          ) : (
            <p className="muted">Select a request to see it here.</p>
          )}
        </section>
      )}
    </div>
  );
}
