import type { Priority, RequestStatus } from "../lib/types.ts";

const STATUS_LABEL: Record<RequestStatus, string> = {
  pending: "Pending",
  approved: "Approved",
  rejected: "Rejected",
  answered: "Answered",
  cancelled: "Cancelled",
  timed_out: "Timed out",
};

export function statusLabel(status: RequestStatus): string {
  return STATUS_LABEL[status];
}

export function StatusBadge({ status }: { status: RequestStatus }) {
  return <span className={`badge status-${status}`}>{STATUS_LABEL[status]}</span>;
}

export function PriorityBadge({ priority }: { priority: Priority }) {
  if (priority === "normal") return null;
  return <span className={`badge priority-${priority}`}>{priority}</span>;
}
