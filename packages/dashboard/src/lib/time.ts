/** Time shown to people: countdowns to expiry, "3 min ago", and full timestamps in local time. */

export function formatRemaining(expiresAt: string | null, now: number): string {
  if (expiresAt === null) return "no deadline";
  const ms = Date.parse(expiresAt) - now;
  if (ms <= 0) return "expired";
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s left`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s left`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, "0")}m left`;
  return `${Math.floor(h / 24)}d ${h % 24}h left`;
}

/** How urgent the deadline feels: under 5 minutes is urgent, under an hour soon. */
export function urgency(expiresAt: string | null, now: number): "none" | "soon" | "urgent" | "expired" {
  if (expiresAt === null) return "none";
  const ms = Date.parse(expiresAt) - now;
  if (ms <= 0) return "expired";
  if (ms < 5 * 60_000) return "urgent";
  if (ms < 3600_000) return "soon";
  return "none";
}

export function formatAgo(at: string, now: number): string {
  const s = Math.max(0, Math.floor((now - Date.parse(at)) / 1000));
  if (s < 10) return "just now";
  if (s < 60) return `${s}s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.floor(h / 24)} days ago`;
}

export function formatDateTime(at: string): string {
  const d = new Date(at);
  return Number.isNaN(d.getTime())
    ? at
    : d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}
