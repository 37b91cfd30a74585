// Edited arguments other approvers made on a request: the list of them with each one's progress
// towards the quorum, and the dialog that approves one as it stands.

import type { ReactNode } from "react";
import { diffJson } from "../lib/diff.ts";
import { shortHash } from "../lib/json.ts";
import type { PendingEdit } from "../lib/types.ts";
import { ArgsDiff } from "./ArgsEditor.tsx";
import { Dialog } from "./Dialog.tsx";
import { SafeText } from "./SafeText.tsx";

/** Who has approved an edit so far, and how far it is from the quorum, for people. */
function editProgress(e: PendingEdit): string {
  const names = (e.quorum.approvers ?? []).map((a) => a.name);
  const by = names.length > 0 ? `Approved by ${names.join(", ")}` : "Approved";
  return `${by}: ${e.quorum.approvals} of ${e.quorum.required} approvals`;
}

/** The pending edits, each with its diff from the proposed arguments and a button to approve it. */
export function PendingEditsList({
  proposed,
  edits,
  locked,
  onApprove,
}: {
  proposed: unknown;
  edits: PendingEdit[];
  locked: boolean;
  onApprove: (argsHash: string) => void;
}) {
  return (
    <div className="pending-edits">
      <h4>Edited arguments awaiting approval</h4>
      <p className="muted">
        Each approval counts only for the exact arguments approved: approving the proposed arguments does not
        approve these edits, nor the other way round.
      </p>
      <ul className="plain">
        {edits.map((e) => (
          <li key={e.args_hash}>
            <p>
              <SafeText text={editProgress(e)} /> (hash <code>{shortHash(e.args_hash)}</code>)
            </p>
            <ArgsDiff changes={diffJson(proposed, e.args)} />
            <button type="button" disabled={locked} onClick={() => onApprove(e.args_hash)}>
              Approve these arguments…
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Asks to approve one pending edit exactly as it stands; Enter in the comment approves. */
export function ApproveEditDialog({
  id,
  tool,
  edit,
  lockedNote,
  locked,
  comment,
  onComment,
  onApprove,
  onClose,
}: {
  /** The decision panel's id, which the form's element ids start with. */
  id: string;
  tool: { name: string; args: unknown };
  edit: PendingEdit;
  lockedNote: ReactNode;
  locked: boolean;
  comment: string;
  onComment: (text: string) => void;
  onApprove: () => void;
  onClose: () => void;
}) {
  return (
    <Dialog title="Approve these edited arguments?" onClose={onClose}>
      {lockedNote}
      <p>
        Runs <code>{tool.name}</code> with these edited arguments (hash{" "}
        <code>{shortHash(edit.args_hash)}</code>) instead of the proposed ones, once enough approvers approve
        exactly them. <SafeText text={editProgress(edit)} />.
      </p>
      <ArgsDiff changes={diffJson(tool.args, edit.args)} />
      <form
        onSubmit={(e) => {
          e.preventDefault();
          onApprove();
        }}
      >
        <label htmlFor={`${id}-approve-edit-comment`}>Comment (optional; Enter approves)</label>
        <input
          id={`${id}-approve-edit-comment`}
          type="text"
          className="wide-input"
          value={comment}
          onChange={(e) => onComment(e.target.value)}
        />
        <div className="actions">
          <button type="submit" className="primary approve" disabled={locked}>
            Approve these arguments
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}
