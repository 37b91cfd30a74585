// The dialog in which a reviewer edits a tool call's arguments and approves the call with the edit.

import type { ReactNode } from "react";
import { type ArgsDraft, ArgsEditor } from "./ArgsEditor.tsx";
import { Dialog } from "./Dialog.tsx";

/** Edits the arguments as JSON against the proposed ones; approving needs a valid, changed draft. */
export function EditArgsDialog({
  id,
  tool,
  lockedNote,
  locked,
  draft,
  onDraft,
  comment,
  onComment,
  onApprove,
  onClose,
}: {
  /** The decision panel's id, which the form's element ids start with. */
  id: string;
  tool: { name: string; args: unknown };
  lockedNote: ReactNode;
  locked: boolean;
  draft: ArgsDraft;
  onDraft: (draft: ArgsDraft) => void;
  comment: string;
  onComment: (text: string) => void;
  /** Called with the edited arguments. */
  onApprove: (args: unknown) => void;
  onClose: () => void;
}) {
  return (
    <Dialog title={`Edit the arguments of ${tool.name}`} onClose={onClose}>
      {lockedNote}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (draft.parsed.ok && draft.changes.length > 0) {
            onApprove(draft.parsed.value);
          }
        }}
      >
        <ArgsEditor proposed={tool.args} draft={draft} onChange={onDraft} disabled={locked} />
        <label htmlFor={`${id}-edit-comment`}>Comment (optional)</label>
        <textarea
          id={`${id}-edit-comment`}
          rows={2}
          value={comment}
          onChange={(e) => onComment(e.target.value)}
        />
        <div className="actions">
          <button
            type="submit"
            className="primary approve"
            disabled={locked || !draft.parsed.ok || draft.changes.length === 0}
          >
            Approve with these arguments
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}
