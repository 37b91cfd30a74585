import type { ReactNode } from "react";
import { useNow } from "../app-context.ts";
import { shortHash } from "../lib/json.ts";
import { casePath } from "../lib/router.ts";
import { formatAgo, formatDateTime } from "../lib/time.ts";
import type { ApprovalRequest } from "../lib/types.ts";
import { JsonBlock } from "./JsonBlock.tsx";
import { Link } from "./Link.tsx";
import { SafeText } from "./SafeText.tsx";

function Section({ title, children, id }: { title: string; children: ReactNode; id?: string }) {
  return (
    <section className="section" aria-labelledby={id}>
      <h3 id={id}>{title}</h3>
      {children}
    </section>
  );
}

/** Why the call needs a human: the policy rule, risk and version (requests made by govern). */
export function WhySection({ r, idPrefix }: { r: ApprovalRequest; idPrefix: string }) {
  const g = r.governance;
  if (!g) return null;
  return (
    <Section title="Why it needs approval" id={`${idPrefix}-why`}>
      <p className="why">
        <SafeText text={g.reason} />
      </p>
      <dl className="facts">
        <dt>Rule</dt>
        <dd>
          <code>{g.rule_id}</code>
          {g.kind === "budget_extension" && " (a budget limit; approving extends it)"}
        </dd>
        {g.risk && (
          <>
            <dt>Risk</dt>
            <dd>
              <span className={`badge risk-${g.risk}`}>{g.risk}</span>
            </dd>
          </>
        )}
        {g.environment && (
          <>
            <dt>Environment</dt>
            <dd>{g.environment}</dd>
          </>
        )}
        <dt>Policy version</dt>
        <dd>
          <code title={g.policy_version}>{shortHash(g.policy_version)}</code>
        </dd>
        <dt>Run</dt>
        <dd>
          <code>{g.run_id}</code>
          {g.call_id && (
            <>
              {" "}
              call <code>{g.call_id}</code>
            </>
          )}
        </dd>
      </dl>
    </Section>
  );
}

/** The action under review, exactly: tool name, arguments, and the hash the approval binds. */
export function ToolSection({ r, idPrefix }: { r: ApprovalRequest; idPrefix: string }) {
  if (!r.tool) return null;
  return (
    <Section title="The action" id={`${idPrefix}-tool`}>
      <p>
        Tool <code className="tool-name">{r.tool.name}</code> with these arguments:
      </p>
      <JsonBlock value={r.tool.args} label={`arguments of ${r.tool.name}`} />
      <p className="muted small">
        Arguments hash <code title={r.tool.args_hash}>{r.tool.args_hash.slice(0, 16)}…</code>
      </p>
    </Section>
  );
}

export function ContextSection({ r, idPrefix }: { r: ApprovalRequest; idPrefix: string }) {
  if (r.context === null || r.context === undefined || r.context === "") return null;
  return (
    <Section title="Context" id={`${idPrefix}-context`}>
      <JsonBlock value={r.context} label="context from the agent" />
    </Section>
  );
}

/** Who asked: the verified key, and what the agent only claims about itself. */
export function AgentSection({ r, idPrefix }: { r: ApprovalRequest; idPrefix: string }) {
  const claimed = r.actor?.agent_name ?? r.actor?.agent_id;
  const differs = claimed !== undefined && claimed !== r.created_by.name;
  return (
    <Section title="Agent" id={`${idPrefix}-agent`}>
      <dl className="facts">
        <dt>Verified</dt>
        <dd>
          <span className="verified">✓ {r.created_by.name}</span>{" "}
          <code className="muted">{r.created_by.key_id}</code> ({r.created_by.role} key)
        </dd>
        {r.actor && (
          <>
            <dt>Claims to be</dt>
            <dd>
              <SafeText
                text={[r.actor.agent_name, r.actor.agent_id && `(${r.actor.agent_id})`]
                  .filter(Boolean)
                  .join(" ")}
              />{" "}
              <span className={differs ? "badge warn" : "badge"}>unverified</span>
            </dd>
          </>
        )}
        {r.source && (
          <>
            <dt>Source</dt>
            <dd>
              {r.source.integration}
              {r.source.run_id && (
                <>
                  , run <code>{r.source.run_id}</code>
                </>
              )}
              {r.source.workflow_id && (
                <>
                  , workflow <code>{r.source.workflow_id}</code>
                </>
              )}
            </dd>
          </>
        )}
        <dt>Case</dt>
        <dd>
          <Link href={casePath(r.correlation_id)}>
            <code>{r.correlation_id}</code>
          </Link>
        </dd>
      </dl>
    </Section>
  );
}

export function TraceSection({ r, idPrefix }: { r: ApprovalRequest; idPrefix: string }) {
  const hasCalls = Array.isArray(r.tool_calls) && r.tool_calls.length > 0;
  const hasRetrieved = r.retrieved_context !== null && r.retrieved_context !== undefined;
  if (!r.trace_id && !hasCalls && !hasRetrieved && !r.metadata) return null;
  return (
    <Section title="Trace" id={`${idPrefix}-trace`}>
      {(r.trace_id || r.parent_trace_id) && (
        <dl className="facts">
          {r.trace_id && (
            <>
              <dt>Trace</dt>
              <dd>
                <code>{r.trace_id}</code>
              </dd>
            </>
          )}
          {r.parent_trace_id && (
            <>
              <dt>Parent trace</dt>
              <dd>
                <code>{r.parent_trace_id}</code>
              </dd>
            </>
          )}
        </dl>
      )}
      {hasCalls && (
        <details>
          <summary>Tool calls so far ({r.tool_calls?.length})</summary>
          <JsonBlock value={r.tool_calls} label="tool calls so far" />
        </details>
      )}
      {hasRetrieved && (
        <details>
          <summary>Retrieved context</summary>
          <JsonBlock value={r.retrieved_context} label="retrieved context" />
        </details>
      )}
      {r.metadata && (
        <details>
          <summary>Metadata</summary>
          <JsonBlock value={r.metadata} label="metadata" />
        </details>
      )}
    </Section>
  );
}

/** Quorum progress and who has decided so far. */
export function ReviewsSection({ r, idPrefix }: { r: ApprovalRequest; idPrefix: string }) {
  const now = useNow();
  const reviews = r.response?.reviews ?? [];
  const approvers = r.quorum.approvers ?? [];
  const edited = r.status === "pending" && (r.pending_edits ?? []).length > 0;
  const showQuorum = r.required_approvals > 1 || approvers.length > 0;
  if (!showQuorum && reviews.length === 0) return null;
  return (
    <Section title="Reviews" id={`${idPrefix}-reviews`}>
      {showQuorum && (
        <p>
          <strong>
            {r.quorum.approvals} of {r.quorum.required}
          </strong>{" "}
          approvals{edited ? " of the proposed arguments" : ""}
          {r.status === "pending" ? " so far" : ""}.
        </p>
      )}
      {reviews.length === 0 && approvers.length > 0 && (
        <ul className="plain">
          {approvers.map((a) => (
            <li key={a.key_id}>✓ {a.name} approved</li>
          ))}
        </ul>
      )}
      {reviews.length > 0 && (
        <ol className="reviews">
          {reviews.map((v) => (
            <li key={v.id}>
              <strong>{v.reviewer.name}</strong> {reviewVerb(v.decision)}
              {v.option && (
                <>
                  {" "}
                  <code>{v.option}</code>
                </>
              )}
              {v.modified_args_hash && " with edited arguments"} via {v.channel},{" "}
              <time dateTime={v.created_at} title={formatDateTime(v.created_at)}>
                {formatAgo(v.created_at, now)}
              </time>
              {v.comment && (
                <blockquote>
                  <SafeText text={v.comment} />
                </blockquote>
              )}
              {v.answer && (
                <blockquote>
                  <SafeText text={v.answer} />
                </blockquote>
              )}
            </li>
          ))}
        </ol>
      )}
    </Section>
  );
}

function reviewVerb(decision: string): string {
  switch (decision) {
    case "approve":
      return "approved";
    case "reject":
      return "rejected";
    case "choose":
      return "chose";
    default:
      return "answered";
  }
}
