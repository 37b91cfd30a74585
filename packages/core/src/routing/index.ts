export { controlMap, validateRequirements } from "./control-map.ts";
export {
  assessResponder,
  type Conflict,
  canSeeRequest,
  conflictsOf,
  coveredRoles,
  eligibleRoles,
  NotEligibleError,
  type ResponderAssessment,
  SeparationOfDutiesError,
} from "./eligibility.ts";
export {
  type AdminContact,
  DEFAULT_ESCALATION,
  type Escalation,
  type EscalationContext,
  type EscalationDefaults,
  escalateRequest,
  escalationDelay,
  MAX_ESCALATE_AFTER_SECONDS,
} from "./escalation.ts";
export {
  isValidTimeZone,
  type LocalTime,
  localTime,
  parseLocalDateTime,
  wallToInstant,
} from "./local-time.ts";
export { type ApprovalVote, matchDistinctRoles, personOf, quorumCapacity, quorumProgress } from "./quorum.ts";
export {
  buildReviewer,
  changedFields,
  MAX_OVERRIDES,
  MAX_SHIFTS,
  patchReviewer,
  type ReviewerInput,
  type ReviewerPatch,
  reviewerAuditData,
} from "./reviewer.ts";
export { planRouting, type RoutingPlan, routingRecord } from "./route.ts";
export {
  type CompiledSchedule,
  compileSchedule,
  isOnShift,
  nextShiftChange,
  overrideInterval,
  parseClock,
  SHIFT_LOOKAHEAD_DAYS,
} from "./schedule.ts";
export * from "./types.ts";
