import { type MouseEvent, memo, useEffect, useLayoutEffect, useRef, useState } from "react";
import { agentLabel } from "../lib/inbox.ts";
import { requestPath } from "../lib/router.ts";
import type { ApprovalRequest } from "../lib/types.ts";
import { PriorityBadge, StatusBadge } from "./Badges.tsx";
import { Countdown } from "./Countdown.tsx";
import { Link } from "./Link.tsx";

/** Rows have one fixed height so only the visible ones are rendered (500 or 5,000 alike). */
export const ROW_HEIGHT = 76;
const OVERSCAN = 6;

export function requestHeadline(r: ApprovalRequest): string {
  return r.title ?? r.question ?? r.tool?.name ?? r.id;
}

interface RowProps {
  request: ApprovalRequest;
  index: number;
  total: number;
  selected: boolean;
  onPick: (id: string, event: MouseEvent<HTMLAnchorElement>) => void;
}

const Row = memo(function Row({ request: r, index, total, selected, onPick }: RowProps) {
  return (
    <li
      className={selected ? "row selected" : "row"}
      style={{ transform: `translateY(${index * ROW_HEIGHT}px)` }}
      aria-setsize={total}
      aria-posinset={index + 1}
    >
      <Link
        href={requestPath(r.id)}
        className="row-link"
        aria-current={selected ? "true" : undefined}
        data-request-id={r.id}
        onClick={(e) => onPick(r.id, e)}
      >
        <span className="row-title">
          <PriorityBadge priority={r.priority} />
          <span className="row-headline">{requestHeadline(r)}</span>
        </span>
        <span className="row-meta">
          <span className="row-agent">{agentLabel(r)}</span>
          {r.tool && <code className="row-tool">{r.tool.name}</code>}
          {r.required_roles.length > 0 && <span className="row-roles">{r.required_roles.join(", ")}</span>}
          <span className="row-end">
            {r.status === "pending" ? (
              <Countdown expiresAt={r.expires_at} />
            ) : (
              <StatusBadge status={r.status} />
            )}
          </span>
        </span>
      </Link>
    </li>
  );
});

/** The inbox's list, windowed: a scrolling box whose inner height stands for every row. */
export function RequestList({
  items,
  selectedId,
  onPick,
  label,
}: {
  items: ApprovalRequest[];
  selectedId: string | null;
  onPick: RowProps["onPick"];
  label: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, height: 800 });

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    let frame = 0;
    const measure = () => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => setView({ top: el.scrollTop, height: el.clientHeight }));
    };
    setView({ top: el.scrollTop, height: el.clientHeight });
    el.addEventListener("scroll", measure, { passive: true });
    const resize = new ResizeObserver(measure);
    resize.observe(el);
    return () => {
      cancelAnimationFrame(frame);
      el.removeEventListener("scroll", measure);
      resize.disconnect();
    };
  }, []);

  // Keep the selected row in view as j/k move through the list.
  const selectedIndex = selectedId === null ? -1 : items.findIndex((r) => r.id === selectedId);
  useEffect(() => {
    const el = box.current;
    if (!el || selectedIndex < 0) return;
    const top = selectedIndex * ROW_HEIGHT;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + ROW_HEIGHT > el.scrollTop + el.clientHeight)
      el.scrollTop = top + ROW_HEIGHT - el.clientHeight;
  }, [selectedIndex]);

  const start = Math.max(0, Math.floor(view.top / ROW_HEIGHT) - OVERSCAN);
  const end = Math.min(items.length, Math.ceil((view.top + view.height) / ROW_HEIGHT) + OVERSCAN);
  return (
    <div className="list-scroll" ref={box}>
      <ul className="rows" aria-label={label} style={{ height: items.length * ROW_HEIGHT }}>
        {items.slice(start, end).map((r, i) => (
          <Row
            key={r.id}
            request={r}
            index={start + i}
            total={items.length}
            selected={r.id === selectedId}
            onPick={onPick}
          />
        ))}
      </ul>
    </div>
  );
}
