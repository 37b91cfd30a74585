import { requestPath } from "./router.ts";
import type { AuditEntry } from "./types.ts";

/** One line of a case's timeline, in words, with links to what it is about. */
export interface TimelineItem {
  seq: number;
  at: string;
  kind: string;
  /** What happened, in a few words. */
  title: string;
  /** The reason, comment, summary or outcome, when there is one. */
  detail: string | null;
  who: string;
  /** Links to the request (or case) this entry is about; anchors for governed calls on this page. */
  links: Array<{ label: string; href: string }>;
  /** Anchor id when this is the first entry about its subject (governed calls link here). */
  anchor: string | null;
}

const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

function requestLink(id: string | null): Array<{ label: string; href: string }> {
  return id?.startsWith("req_") ? [{ label: "request", href: requestPath(id) }] : [];
}

function describe(e: AuditEntry): Pick<TimelineItem, "title" | "detail" | "links"> {
  const d = e.data;
  const subjectRequest = e.subject_id.startsWith("req_") ? e.subject_id : null;
  if (e.kind.startsWith("govern.")) {
    const decision = e.kind.slice("govern.".length).replace(/_/g, " ");
    const requestId = str(d.request_id);
    return {
      title: `Governed call ${str(d.tool) ?? "?"}: ${decision}`,
      detail: [str(d.reason), str(d.rule_id) && `rule ${d.rule_id}`, str(d.risk) && `risk ${d.risk}`]
        .filter(Boolean)
        .join(" · "),
      links: requestLink(requestId),
    };
  }
  switch (e.kind) {
    case "request.created":
      return {
        title: `Request: ${str(d.title) ?? str(d.question) ?? e.subject_id}`,
        detail: null,
        links: requestLink(subjectRequest),
      };
    case "review.recorded": {
      const decision = str(d.decision) ?? "reviewed";
      const verbs: Record<string, string> = {
        approve: "approved",
        reject: "rejected",
        answer: "answered",
        choose: "chose",
      };
      const option = str(d.option);
      return {
        title: `${e.actor.name ?? "A reviewer"} ${verbs[decision] ?? decision}${option ? ` ${option}` : ""}${d.modified_args_hash ? " with edited arguments" : ""}`,
        detail: str(d.comment) ?? str(d.answer),
        links: requestLink(subjectRequest),
      };
    }
    case "action.logged": {
      const reply = d.in_reply_to as { type?: string; id?: string } | null;
      return {
        title: `Action ${str(d.action) ?? ""}`.trim(),
        detail:
          [str(d.summary), str(d.outcome) && `outcome: ${d.outcome}`].filter(Boolean).join(" · ") || null,
        links: requestLink(str(reply?.id) ?? null),
      };
    }
  }
  if (e.kind.startsWith("request.")) {
    const what = e.kind.slice("request.".length).replace(/_/g, " ");
    return {
      title: `Request ${what}`,
      detail: str(d.comment) ?? str(d.reason),
      links: requestLink(subjectRequest),
    };
  }
  if (e.kind.startsWith("webhook.")) {
    const what = e.kind.slice("webhook.".length).replace(/_/g, " ");
    return {
      title: `Delivery ${what}`,
      detail: [str(d.url), str(d.event_type), str(d.error)].filter(Boolean).join(" · ") || null,
      links: requestLink(subjectRequest ?? str(d.subject_id)),
    };
  }
  return { title: e.kind.replace(/[._]/g, " "), detail: null, links: requestLink(subjectRequest) };
}

/**
 * The timeline of a case. `governedCalls` maps request ids to the governed call that parked them,
 * so a request's entries link back to the call's entry on the same page.
 */
function withCallLink(
  item: Pick<TimelineItem, "title" | "detail" | "links">,
  e: AuditEntry,
  governedCalls: Map<string, string>,
): Pick<TimelineItem, "title" | "detail" | "links"> {
  const call = governedCalls.get(e.subject_id);
  if (!call || e.kind !== "request.created") return item;
  return { ...item, links: [...item.links, { label: "governed call", href: `#${call}` }] };
}

export function timelineItems(
  entries: AuditEntry[],
  governedCalls: Map<string, string> = new Map(),
): TimelineItem[] {
  const seen = new Set<string>();
  return [...entries]
    .sort((a, b) => a.seq - b.seq)
    .map((e) => {
      const first = !seen.has(e.subject_id);
      seen.add(e.subject_id);
      return {
        seq: e.seq,
        at: e.at,
        kind: e.kind,
        who: e.actor.name ?? e.actor.type,
        anchor: first ? e.subject_id : null,
        ...withCallLink(describe(e), e, governedCalls),
      };
    });
}
