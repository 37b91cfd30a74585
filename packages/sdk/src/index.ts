/*
 * @countersign/sdk: the public surface. Anything not exported here is internal and may change.
 */

export {
  type ApprovalTokenClaims,
  type ApprovalTokenErrorCode,
  type ApprovalTokenJwk,
  ApprovalTokenVerificationError,
  argsHash,
  type VerifyApprovalTokenOptions,
  verifyApprovalToken,
} from "./approval-token.ts";
export { CanonicalizationError, canonicalize } from "./canonical-json.ts";
export { CountersignClient } from "./client.ts";
export type {
  CallOptions,
  CreateRequestResult,
  ListAuditOptions,
  ListRequestsFilter,
} from "./client-calls.ts";
export { type CountersignClientOptions, SDK_VERSION } from "./client-options.ts";
export { CountersignError, type CountersignErrorInit, type FieldError, type Problem } from "./errors.ts";
export type {
  BudgetView,
  GovernDecision,
  GovernInput,
  GovernResult,
  Jwks,
  StopReason,
  TokenCall,
  TokenConsumption,
  TokenVerification,
} from "./governance-types.ts";
export {
  type GovernExtras,
  type GuardCallOptions,
  type GuardClient,
  type GuardContext,
  type GuardedFunction,
  type GuardOptions,
  guard,
} from "./guard.ts";
export {
  ApprovalRejectedError,
  ApprovalTimeoutError,
  GovernDeniedError,
  RequestCancelledError,
} from "./outcome-errors.ts";
export type { RetryOptions } from "./retry.ts";
export {
  type Assignee,
  type CapacityEntry,
  type ControlMap,
  type ControlMapInput,
  type CreateReviewerInput,
  type ListReviewersFilter,
  type QuorumProgress,
  type RequestRouting,
  type Reviewer,
  type ReviewerPage,
  type RoutingTier,
  type RoutingWarning,
  routingOf,
  type Shift,
  type ShiftOverride,
  type UpdateReviewerInput,
  type Weekday,
} from "./reviewers.ts";
export type { FetchLike } from "./transport.ts";
export {
  type Action,
  type ApiKey,
  type ApprovalRequest,
  type AuditActor,
  type AuditEntry,
  type AuditPage,
  type AuditVerification,
  type Case,
  type ClaimedActor,
  type CreatedKey,
  type CreateKeyInput,
  type CreateRequestInput,
  isTerminal,
  type LogActionInput,
  type PendingEdit,
  type Principal,
  type Priority,
  REQUEST_STATUSES,
  type RequestOption,
  type RequestPage,
  type RequestResponse,
  type RequestSource,
  type RequestStatus,
  type RequestType,
  type RespondInput,
  type Review,
  type ReviewDecision,
  type Role,
  type Severity,
  type TerminalStatus,
  type ToolCall,
} from "./types.ts";
export type { WaitOptions } from "./wait.ts";
export {
  type KillSwitchData,
  type VerifyWebhookOptions,
  verifyWebhook,
  type WebhookDeliveryAttempt,
  type WebhookDeliveryData,
  type WebhookEvent,
  type WebhookEventType,
  type WebhookHeaders,
  WebhookVerificationError,
  type WebhookVerificationErrorCode,
} from "./webhooks.ts";
