import { useEffect, useRef, useState } from "react";
import { isTypingTarget, useLive, useLocation } from "../app-context.ts";
import { PriorityBadge, StatusBadge, statusLabel } from "../components/Badges.tsx";
import { Countdown } from "../components/Countdown.tsx";
import { type Command, type CommandKind, DecisionPanel, decidedBy } from "../components/DecisionPanel.tsx";
import { Link } from "../components/Link.tsx";
import { requestHeadline } from "../components/RequestList.tsx";
import {
  AgentSection,
  ContextSection,
  ReviewsSection,
  ToolSection,
  TraceSection,
  WhySection,
} from "../components/RequestSections.tsx";
import { SafeText } from "../components/SafeText.tsx";
import { describeError } from "../lib/api.ts";
import { casePath, navigate, requestPath } from "../lib/router.ts";
import { formatDateTime } from "../lib/time.ts";

const TYPE_LABEL = {
  approval: "Approve or reject",
  decision: "Pick an option",
  input: "Write an answer",
} as const;

/** One request, everything a reviewer needs to decide it, kept live. */
export function RequestView({
  id,
  command,
  embedded,
}: {
  id: string;
  command: Command | null;
  embedded?: boolean;
}) {
  const live = useLive();
  const request = live.requests.get(id);
  const [error, setError] = useState<string | null>(null);
  const [elsewhere, setElsewhere] = useState<string | null>(null);
  const own = useRef(false);
  const previous = useRef(request?.status);

  useEffect(() => {
    // The inbox's copy is kept live by the event stream; a page opened on its own reads it first.
    if (embedded && live.requests.has(id)) return;
    live.fetch(id).catch((e) => setError(describeError(e)));
  }, [id, live, embedded]);

  const status = request?.status;
  useEffect(() => {
    if (request && previous.current === "pending" && request.status !== "pending" && !own.current) {
      setElsewhere(`${statusLabel(request.status)} by ${decidedBy(request)} while you were looking.`);
    }
    previous.current = status;
  }, [request, status]);

  if (!request) {
    return error ? (
      <p className="error" role="alert">
        {error}
      </p>
    ) : (
      <p className="muted">Loading…</p>
    );
  }
  const r = request;
  const Heading = embedded ? "h2" : "h1";
  const prefix = `rq-${r.id}`;
  const claimed = r.actor?.agent_name ?? r.actor?.agent_id;
  return (
    <article className="request" aria-labelledby={`${prefix}-title`}>
      <header className="request-head">
        <Heading id={`${prefix}-title`} tabIndex={-1} className="request-title">
          <SafeText text={requestHeadline(r)} />
        </Heading>
        <p className="request-meta">
          <StatusBadge status={r.status} />
          <PriorityBadge priority={r.priority} />
          <span>{TYPE_LABEL[r.type]}</span>
          {r.status === "pending" && <Countdown expiresAt={r.expires_at} />}
          {r.required_roles.length > 0 && <span>for {r.required_roles.join(", ")}</span>}
        </p>
        <p className="request-from">
          From <span className="verified">✓ {r.created_by.name}</span>
          {claimed && claimed !== r.created_by.name && (
            <>
              {" "}
              (claims “<SafeText text={claimed} />
              ”, <span className="badge warn">unverified</span>)
            </>
          )}{" "}
          · <time dateTime={r.created_at}>{formatDateTime(r.created_at)}</time> · case{" "}
          <Link href={casePath(r.correlation_id)}>
            <code>{r.correlation_id}</code>
          </Link>
        </p>
        {r.title && r.question && (
          <p className="question">
            <SafeText text={r.question} />
          </p>
        )}
      </header>
      {elsewhere && (
        <p className="elsewhere" role="alert">
          {elsewhere}
        </p>
      )}
      <WhySection r={r} idPrefix={prefix} />
      <ToolSection r={r} idPrefix={prefix} />
      <ContextSection r={r} idPrefix={prefix} />
      <DecisionPanel request={r} command={command} onOwnDecision={(mine) => (own.current = mine)} />
      <ReviewsSection r={r} idPrefix={prefix} />
      <AgentSection r={r} idPrefix={prefix} />
      <TraceSection r={r} idPrefix={prefix} />
      <p className="muted small">
        <code>{r.id}</code>
        {embedded && (
          <>
            {" "}
            · <Link href={requestPath(r.id)}>Open on its own page</Link>
          </>
        )}
      </p>
    </article>
  );
}

/** `/requests/:id`: the request on its own page; `?do=a|r|e` (from the phone inbox) starts an action. */
export function RequestPage({ id }: { id: string }) {
  const { search } = useLocation();
  const [command, setCommand] = useState<Command | null>(() => {
    const action = new URLSearchParams(search).get("do");
    return action === "a" || action === "r" || action === "e" ? { kind: action, n: 1, id } : null;
  });
  useEffect(() => {
    if (new URLSearchParams(search).has("do")) navigate(requestPath(id), { replace: true });
  }, [search, id]);
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (isTypingTarget(event)) return;
      if (event.key === "a" || event.key === "r" || event.key === "e") {
        event.preventDefault();
        setCommand((c) => ({ kind: event.key as CommandKind, n: (c?.n ?? 0) + 1, id }));
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [id]);
  return (
    <div className="page narrow-page">
      <p className="back">
        <Link href="/">← Inbox</Link>
      </p>
      <RequestView id={id} command={command} />
    </div>
  );
}
