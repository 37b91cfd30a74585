/**
 * Table shapes shared by both adapters. Resources are stored whole as canonical JSON text (`doc`)
 * next to the columns we filter and sort on, so one row type maps to one domain object and both
 * SQLite and PostgreSQL store exactly the same bytes. Timestamps are RFC 3339 UTC text, which sorts
 * in time order on both engines.
 */
export interface KeysTable {
  id: string;
  name: string;
  role: string;
  secret_hash: string;
  hint: string;
  created_at: string;
  created_by: string | null;
  revoked_at: string | null;
}

export interface RequestsTable {
  id: string;
  status: string;
  type: string;
  priority: string;
  correlation_id: string;
  created_by_key_id: string;
  external_request_id: string | null;
  expires_at: string | null;
  /** Required roles as `|role1|role2|` so a role filter is a plain LIKE on both engines. */
  roles: string;
  created_at: string;
  updated_at: string;
  doc: string;
}

export interface ReviewsTable {
  id: string;
  request_id: string;
  reviewer_key_id: string;
  created_at: string;
  doc: string;
}

export interface ActionsTable {
  id: string;
  correlation_id: string;
  created_by_key_id: string;
  created_at: string;
  doc: string;
}

export interface AuditTable {
  seq: number;
  at: string;
  kind: string;
  subject_id: string;
  correlation_id: string | null;
  /** The agent key that owns the subject, so agents can be shown their own part of a case. */
  owner_key_id: string | null;
  actor: string;
  data: string;
  prev_hash: string;
  hash: string;
}

export interface AuditHeadTable {
  id: number;
  seq: number;
  hash: string;
}

export interface SettingsTable {
  name: string;
  value: string;
  updated_at: string;
}

export interface PoliciesTable {
  version: string;
  source: string;
  created_at: string;
  created_by: string | null;
}

export interface RunsTable {
  agent_key_id: string;
  run_id: string;
  first_call_at: string;
  steps: number;
  tool_calls: number;
  usd: number;
  budget_extensions: number;
  updated_at: string;
}

export interface GovernedCallsTable {
  id: string;
  agent_key_id: string;
  run_id: string;
  call_id: string | null;
  decision: string;
  request_id: string | null;
  correlation_id: string;
  created_at: string;
  doc: string;
}

export interface KillSwitchesTable {
  id: string;
  scope: string;
  agent: string | null;
  run_id: string | null;
  active: number;
  created_at: string;
  doc: string;
}

export interface GrantsTable {
  id: string;
  active: number;
  uses: number;
  created_at: string;
  doc: string;
}

export interface SigningKeysTable {
  kid: string;
  created_at: string;
  retired_at: string | null;
  record: string;
}

export interface TokenUsesTable {
  jti: string;
  request_id: string;
  consumed_at: string;
  consumed_by: string;
  executed_args_hash: string;
}

export interface Database {
  keys: KeysTable;
  requests: RequestsTable;
  reviews: ReviewsTable;
  actions: ActionsTable;
  audit: AuditTable;
  audit_head: AuditHeadTable;
  settings: SettingsTable;
  policies: PoliciesTable;
  runs: RunsTable;
  governed_calls: GovernedCallsTable;
  kill_switches: KillSwitchesTable;
  grants: GrantsTable;
  signing_keys: SigningKeysTable;
  token_uses: TokenUsesTable;
}
