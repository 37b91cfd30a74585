import { type FieldProblem, ValidationError } from "../errors.ts";
import { isValidTimeZone, parseLocalDateTime } from "./local-time.ts";
import { overrideInterval, parseClock } from "./schedule.ts";
import type { Reviewer, Shift, ShiftOverride, Weekday } from "./types.ts";
import { WEEKDAYS } from "./types.ts";

/**
 * Building and changing reviewer records from validated bodies. The schema at the boundary checks
 * shapes; this checks what a schema cannot (a real timezone, a real date, a non-empty shift) and
 * normalises (deduplicated roles, days in week order) so stored records compare cleanly.
 */

export const MAX_SHIFTS = 50;
export const MAX_OVERRIDES = 200;

export interface ReviewerInput {
  name: string;
  roles: string[];
  fallback_for?: string[];
  timezone: string;
  shifts?: Shift[];
  overrides?: ShiftOverride[];
  email?: string | null;
  slack_user_id?: string | null;
  phone?: string | null;
  key_id?: string | null;
  owns_agent_keys?: string[];
}

export type ReviewerPatch = Partial<ReviewerInput>;

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

function normaliseShift(shift: Shift, path: string, problems: FieldProblem[]): Shift {
  const start = parseClock(shift.start);
  const end = parseClock(shift.end, true);
  if (start === null)
    problems.push({ path: `${path}/start`, message: "must be HH:MM between 00:00 and 23:59" });
  if (end === null) problems.push({ path: `${path}/end`, message: "must be HH:MM between 00:00 and 24:00" });
  if (start !== null && end !== null && start === end) {
    problems.push({ path, message: "start and end are equal; use 00:00–24:00 for a whole day" });
  }
  if (shift.days.length === 0) problems.push({ path: `${path}/days`, message: "name at least one day" });
  const days = WEEKDAYS.filter((d) => shift.days.includes(d)) as Weekday[];
  return { days, start: shift.start, end: shift.end };
}

function normaliseOverride(o: ShiftOverride, path: string, problems: FieldProblem[]): ShiftOverride {
  if (!parseLocalDateTime(o.from)) {
    problems.push({
      path: `${path}/from`,
      message: "must be a real local date YYYY-MM-DD or YYYY-MM-DDTHH:MM",
    });
  }
  if (!parseLocalDateTime(o.to)) {
    problems.push({
      path: `${path}/to`,
      message: "must be a real local date YYYY-MM-DD or YYYY-MM-DDTHH:MM",
    });
  }
  const interval = overrideInterval(o);
  if (interval && interval.to <= interval.from) problems.push({ path, message: "to must be after from" });
  return { kind: o.kind, from: o.from, to: o.to, ...(o.note !== undefined ? { note: o.note } : {}) };
}

type ReviewerFields = Omit<Reviewer, "id" | "created_at" | "updated_at">;

function normalise(input: ReviewerInput): ReviewerFields {
  const problems: FieldProblem[] = [];
  if (input.name.trim() === "") problems.push({ path: "/name", message: "must not be blank" });
  if (!isValidTimeZone(input.timezone)) {
    problems.push({
      path: "/timezone",
      message: "must be an IANA timezone name such as Europe/Paris (fixed offsets cannot follow DST)",
    });
  }
  const shifts = input.shifts ?? [];
  const overrides = input.overrides ?? [];
  if (shifts.length > MAX_SHIFTS) problems.push({ path: "/shifts", message: `at most ${MAX_SHIFTS} shifts` });
  if (overrides.length > MAX_OVERRIDES)
    problems.push({ path: "/overrides", message: `at most ${MAX_OVERRIDES} overrides` });
  const fields: ReviewerFields = {
    name: input.name.trim(),
    roles: unique(input.roles),
    fallback_for: unique(input.fallback_for ?? []),
    timezone: input.timezone,
    shifts: shifts.map((s, i) => normaliseShift(s, `/shifts/${i}`, problems)),
    overrides: overrides.map((o, i) => normaliseOverride(o, `/overrides/${i}`, problems)),
    email: input.email ?? null,
    slack_user_id: input.slack_user_id ?? null,
    phone: input.phone ?? null,
    key_id: input.key_id ?? null,
    owns_agent_keys: unique(input.owns_agent_keys ?? []),
  };
  if (problems.length > 0) {
    throw new ValidationError(problems.map((p) => `${p.path}: ${p.message}`).join("; "), problems);
  }
  return fields;
}

export function buildReviewer(input: ReviewerInput, ctx: { id: string; now: number }): Reviewer {
  const at = new Date(ctx.now).toISOString();
  return { id: ctx.id, ...normalise(input), created_at: at, updated_at: at };
}

/** Applies a partial update; fields left out keep their value, `null` clears a contact or the key. */
export function patchReviewer(existing: Reviewer, patch: ReviewerPatch, now: number): Reviewer {
  const merged: ReviewerInput = {
    name: patch.name ?? existing.name,
    roles: patch.roles ?? existing.roles,
    fallback_for: patch.fallback_for ?? existing.fallback_for,
    timezone: patch.timezone ?? existing.timezone,
    shifts: patch.shifts ?? existing.shifts,
    overrides: patch.overrides ?? existing.overrides,
    email: patch.email === undefined ? existing.email : patch.email,
    slack_user_id: patch.slack_user_id === undefined ? existing.slack_user_id : patch.slack_user_id,
    phone: patch.phone === undefined ? existing.phone : patch.phone,
    key_id: patch.key_id === undefined ? existing.key_id : patch.key_id,
    owns_agent_keys: patch.owns_agent_keys ?? existing.owns_agent_keys,
  };
  return {
    id: existing.id,
    ...normalise(merged),
    created_at: existing.created_at,
    updated_at: new Date(now).toISOString(),
  };
}

/** Names of the fields whose value differs, for the audit entry of an update. */
export function changedFields(before: Reviewer, after: Reviewer): string[] {
  const keys = Object.keys(after) as Array<keyof Reviewer>;
  return keys.filter(
    (k) => k !== "updated_at" && JSON.stringify(before[k] ?? null) !== JSON.stringify(after[k] ?? null),
  );
}

/** What the audit log records about a reviewer: no contact details, which do not belong in a permanent log. */
export function reviewerAuditData(r: Reviewer): Record<string, unknown> {
  return {
    name: r.name,
    roles: r.roles,
    fallback_for: r.fallback_for,
    timezone: r.timezone,
    shifts: r.shifts,
    overrides: r.overrides.length,
    key_id: r.key_id,
    owns_agent_keys: r.owns_agent_keys,
  };
}
