// The decision panel of a request: the actions that fit its type, the note once it is settled or
// awaiting others, and the approve and reject dialogs; pending edits and argument editing live apart.

import { useEffect, useId, useRef, useState } from "react";
import { useApp } from "../app-context.ts";
import { ApiError, describeError, enc } from "../lib/api.ts";
import type { ApprovalRequest } from "../lib/types.ts";
import { type ArgsDraft, initialDraft } from "./ArgsEditor.tsx";
import { statusLabel } from "./Badges.tsx";
import { Dialog } from "./Dialog.tsx";
import { EditArgsDialog } from "./EditArgsDialog.tsx";
import { ApproveEditDialog, PendingEditsList } from "./PendingEdits.tsx";
import { requestHeadline } from "./RequestList.tsx";
import { SafeText } from "./SafeText.tsx";

export type CommandKind = "a" | "r" | "e";
/** A keyboard shortcut aimed at the request on screen; `n` tells repeated presses apart. */
export interface Command {
  kind: CommandKind;
  n: number;
  /** The request it was meant for: a command never acts on a request that took its place. */
  id: string;
}

type Open = null | "approve" | "reject" | "edit" | "approve-edit";

interface RespondBody {
  approved?: boolean;
  option?: string;
  answer?: string;
  comment?: string;
  modified_args?: unknown;
}

/** Who settled a decided request, for the banner that replaces the buttons. */
export function decidedBy(r: ApprovalRequest): string {
  if (r.status === "cancelled") return r.cancellation?.by?.name ?? "the agent";
  if (r.status === "timed_out") return "nobody in time";
  const reviews = r.response?.reviews ?? [];
  return reviews[reviews.length - 1]?.reviewer.name ?? "someone";
}

/**
 * The actions that fit the request's type. Every button is disabled once the request is decided
 * (here or elsewhere) or once I have given my own approval towards a quorum. Approvals count only
 * for the exact arguments approved, so edits other approvers made are listed with their own
 * progress, and can be approved as they stand.
 */
export function DecisionPanel({
  request: r,
  command,
  onOwnDecision,
}: {
  request: ApprovalRequest;
  command: Command | null;
  onOwnDecision: (pending: boolean) => void;
}) {
  const { api, live, me, announce } = useApp();
  const id = useId();
  const [open, setOpen] = useState<Open>(null);
  const [comment, setComment] = useState("");
  const [reason, setReason] = useState("");
  const [option, setOption] = useState("");
  const [answer, setAnswer] = useState("");
  const [draft, setDraft] = useState<ArgsDraft>(() => initialDraft(r.tool?.args ?? {}));
  const [editHash, setEditHash] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const firstOption = useRef<HTMLInputElement>(null);
  const answerBox = useRef<HTMLTextAreaElement>(null);

  const decided = r.status !== "pending";
  const approvers = r.quorum.approvers ?? [];
  const edits = r.type === "approval" && r.tool ? (r.pending_edits ?? []) : [];
  const mine = (list: Array<{ key_id: string }> | undefined) =>
    (list ?? []).some((a) => a.key_id === me.principal.key_id);
  const myEdit = edits.find((e) => mine(e.quorum.approvers));
  const alreadyMine = mine(approvers) || myEdit !== undefined;
  const editToApprove = edits.find((e) => e.args_hash === editHash);
  const locked = decided || alreadyMine || busy;

  const handled = useRef<number | undefined>(undefined);
  useEffect(() => {
    if (!command || command.id !== r.id || command.n === handled.current || locked) return;
    handled.current = command.n;
    if (command.kind === "r") setOpen("reject");
    else if (command.kind === "e" && r.type === "approval" && r.tool) setOpen("edit");
    else if (command.kind === "a") {
      if (r.type === "approval") setOpen("approve");
      else if (r.type === "decision") firstOption.current?.focus();
      else answerBox.current?.focus();
    }
    // `handled` makes each command act once, however often the request changes under it.
  }, [command, locked, r.id, r.type, r.tool]);

  const send = async (body: RespondBody, done: string) => {
    setBusy(true);
    setError(null);
    onOwnDecision(true);
    try {
      const updated = await api.post<ApprovalRequest>(`/v1/requests/${enc(r.id)}/respond`, body);
      live.upsert(updated);
      setOpen(null);
      announce(`${done}: ${requestHeadline(r)}`);
    } catch (e) {
      onOwnDecision(false);
      setError(describeError(e));
      if (e instanceof ApiError && (e.status === 409 || e.status === 404))
        void live.fetch(r.id).catch(() => {});
    } finally {
      setBusy(false);
    }
  };
  const withComment = (text: string) => (text.trim() ? { comment: text.trim() } : {});

  const lockedNote = decided ? (
    <p className="decided" role="status">
      {statusLabel(r.status)} by {decidedBy(r)}. Nothing more can be decided here.
    </p>
  ) : myEdit ? (
    <p className="decided" role="status">
      You have approved edited arguments; waiting for {myEdit.quorum.required - myEdit.quorum.approvals} more
      approvals of exactly those arguments.
    </p>
  ) : alreadyMine ? (
    <p className="decided" role="status">
      You have approved; waiting for {r.quorum.required - r.quorum.approvals} more.
    </p>
  ) : null;

  return (
    <section className="decision" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>Your decision</h3>
      {lockedNote}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {r.type === "decision" && (
        <fieldset className="options" disabled={locked}>
          <legend>Pick one</legend>
          {(r.options ?? []).map((o, i) => (
            <label key={o.name} className="option">
              <input
                ref={i === 0 ? firstOption : undefined}
                type="radio"
                name={`${id}-option`}
                value={o.name}
                checked={option === o.name}
                onChange={() => setOption(o.name)}
              />
              <span>
                <strong>
                  <SafeText text={o.title ?? o.name} />
                </strong>
                {o.description && (
                  <span className="muted">
                    {" "}
                    — <SafeText text={o.description} />
                  </span>
                )}
              </span>
            </label>
          ))}
        </fieldset>
      )}
      {r.type === "input" && (
        <>
          <label htmlFor={`${id}-answer`}>Your answer</label>
          <textarea
            id={`${id}-answer`}
            ref={answerBox}
            rows={4}
            value={answer}
            disabled={locked}
            onChange={(e) => setAnswer(e.target.value)}
          />
        </>
      )}
      {r.type !== "approval" && (
        <>
          <label htmlFor={`${id}-comment`}>Comment (optional)</label>
          <textarea
            id={`${id}-comment`}
            rows={2}
            value={comment}
            disabled={locked}
            onChange={(e) => setComment(e.target.value)}
          />
        </>
      )}
      <div className="actions">
        {r.type === "approval" && (
          <button
            type="button"
            className="primary approve"
            disabled={locked}
            onClick={() => setOpen("approve")}
          >
            Approve…
          </button>
        )}
        {r.type === "decision" && (
          <button
            type="button"
            className="primary approve"
            disabled={locked || option === ""}
            onClick={() => void send({ option, ...withComment(comment) }, "Chose")}
          >
            Choose this option
          </button>
        )}
        {r.type === "input" && (
          <button
            type="button"
            className="primary approve"
            disabled={locked || answer.trim() === ""}
            onClick={() => void send({ answer: answer.trim(), ...withComment(comment) }, "Answered")}
          >
            Send answer
          </button>
        )}
        {r.type === "approval" && r.tool && (
          <button type="button" disabled={locked} onClick={() => setOpen("edit")}>
            Edit arguments…
          </button>
        )}
        <button type="button" className="danger" disabled={locked} onClick={() => setOpen("reject")}>
          Reject…
        </button>
      </div>

      {edits.length > 0 && r.tool && (
        <PendingEditsList
          proposed={r.tool.args}
          edits={edits}
          locked={locked}
          onApprove={(hash) => {
            setEditHash(hash);
            setOpen("approve-edit");
          }}
        />
      )}

      {open === "approve" && (
        <Dialog title="Approve this request?" onClose={() => setOpen(null)}>
          {lockedNote}
          <p>
            <SafeText text={requestHeadline(r)} />
          </p>
          {r.tool && (
            <p>
              Runs <code>{r.tool.name}</code> with the proposed arguments (hash{" "}
              <code>{r.tool.args_hash.slice(0, 12)}</code>).
            </p>
          )}
          {edits.length > 0 && (
            <p>
              Your approval counts for the proposed arguments only, not for the {edits.length} edit
              {edits.length === 1 ? "" : "s"} other approvers made.
            </p>
          )}
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void send({ approved: true, ...withComment(comment) }, "Approved");
            }}
          >
            {/* One line, focused first: Enter approves, so `a` then Enter decides from the keyboard. */}
            <label htmlFor={`${id}-approve-comment`}>Comment (optional; Enter approves)</label>
            <input
              id={`${id}-approve-comment`}
              type="text"
              className="wide-input"
              value={comment}
              onChange={(e) => setComment(e.target.value)}
            />
            <div className="actions">
              <button type="submit" className="primary approve" disabled={locked}>
                Approve
              </button>
              <button type="button" onClick={() => setOpen(null)}>
                Cancel
              </button>
            </div>
          </form>
        </Dialog>
      )}

      {open === "reject" && (
        <Dialog title="Reject this request?" onClose={() => setOpen(null)}>
          {lockedNote}
          <form
            onSubmit={(e) => {
              e.preventDefault();
              if (reason.trim()) void send({ approved: false, comment: reason.trim() }, "Rejected");
            }}
          >
            <label htmlFor={`${id}-reason`}>Reason (the agent and the audit log get it)</label>
            <textarea
              id={`${id}-reason`}
              rows={3}
              required
              value={reason}
              autoFocus
              onChange={(e) => setReason(e.target.value)}
            />
            <div className="actions">
              <button type="submit" className="danger" disabled={locked || reason.trim() === ""}>
                Reject
              </button>
              <button type="button" onClick={() => setOpen(null)}>
                Cancel
              </button>
            </div>
          </form>
        </Dialog>
      )}

      {open === "approve-edit" && r.tool && editToApprove && (
        <ApproveEditDialog
          id={id}
          tool={r.tool}
          edit={editToApprove}
          lockedNote={lockedNote}
          locked={locked}
          comment={comment}
          onComment={setComment}
          onApprove={() =>
            void send(
              { approved: true, modified_args: editToApprove.args, ...withComment(comment) },
              "Approved the edited arguments",
            )
          }
          onClose={() => setOpen(null)}
        />
      )}

      {open === "edit" && r.tool && (
        <EditArgsDialog
          id={id}
          tool={r.tool}
          lockedNote={lockedNote}
          locked={locked}
          draft={draft}
          onDraft={setDraft}
          comment={comment}
          onComment={setComment}
          onApprove={(args) =>
            void send(
              { approved: true, modified_args: args, ...withComment(comment) },
              "Approved with edited arguments",
            )
          }
          onClose={() => setOpen(null)}
        />
      )}
    </section>
  );
}
