import { useNow } from "../app-context.ts";
import { formatDateTime, formatRemaining, urgency } from "../lib/time.ts";

/** Time left before the request times out; updated every second, never announced every second. */
export function Countdown({ expiresAt }: { expiresAt: string | null }) {
  const now = useNow();
  if (expiresAt === null) return <span className="countdown none">no deadline</span>;
  return (
    <time
      className={`countdown ${urgency(expiresAt, now)}`}
      dateTime={expiresAt}
      title={`expires ${formatDateTime(expiresAt)}`}
    >
      {formatRemaining(expiresAt, now)}
    </time>
  );
}
