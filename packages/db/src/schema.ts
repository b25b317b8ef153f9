import type { ColumnType, Generated, GeneratedAlways, Insertable, Selectable } from 'kysely';
import type { JsonObject, StepStatus, TaskStatus } from '@ccg/contracts';

/** Timestamp with a database default. */
type DefaultedTimestamp = ColumnType<Date, Date | undefined, Date>;
type NullableTimestamp = ColumnType<Date | null, Date | null, Date | null>;
type Json<T = JsonObject> = ColumnType<T, T | string, T | string>;

export interface ClustersTable {
  id: string;
  doc: Json;
  version: Generated<number>;
  /** Actor (API key) that created / last changed the entry. */
  created_by: ColumnType<string | null, string | null | undefined, string | null>;
  updated_by: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
}

export interface BlocksTable {
  id: string;
  doc: Json;
  cluster_id: string | null;
  status: string;
  version: Generated<number>;
  created_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
}

export interface TasksTable {
  task_id: string;
  task_type: string;
  task_data: Json;
  task_status: TaskStatus;
  task_status_data: Json;
  cluster_id: string | null;
  /** BullMQ job id of the current run (the task id, or `<task id>-r<n>` after a retry). */
  job_id: string;
  /** Token of the worker run that owns the task; a stale run's writes match nothing. */
  run_id: string | null;
  attempts: Generated<number>;
  retries: Generated<number>;
  cancel_requested: Generated<boolean>;
  idempotency_key: string | null;
  request_hash: string | null;
  /** At most one pending/in-progress task holds a given key (e.g. `block:<id>`). */
  exclusive_key: ColumnType<string | null, string | null | undefined, string | null>;
  actor: string | null;
  created_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
  started_at: NullableTimestamp;
  finished_at: NullableTimestamp;
}

export interface TaskStepsTable {
  task_id: string;
  idx: number;
  name: string;
  status: StepStatus;
  message: string | null;
  output: Json | null;
  attempts: Generated<number>;
  started_at: NullableTimestamp;
  finished_at: NullableTimestamp;
}

export interface PoliciesTable {
  uri: string;
  runtime: string;
  code: string;
  code_sha256: string;
  /** 'source' (text as sent) or 'archive' (code/function.py taken from an AIOS archive). */
  packaging: string;
  description: string | null;
  settings: Json;
  parameters: Json;
  actor: string | null;
  created_at: DefaultedTimestamp;
}

export interface PolicyContextTable {
  uri: string;
  key: string;
  value: ColumnType<unknown, string, string>;
  updated_at: DefaultedTimestamp;
}

export interface PrecheckMapTable {
  scope: string;
  action: string;
  entry: ColumnType<JsonObject | null, string | null, string | null>;
  actor: string | null;
  updated_at: DefaultedTimestamp;
}

export interface PrecheckMapHistoryTable {
  id: Generated<number>;
  scope: string;
  changes: Json;
  actor: string | null;
  request_id: string | null;
  created_at: DefaultedTimestamp;
}

export interface PrecheckDecisionsTable {
  id: Generated<number>;
  created_at: DefaultedTimestamp;
  action: string;
  scope: string;
  rule_uri: string;
  code_sha256: string | null;
  mode: string;
  outcome: string;
  reason: ColumnType<unknown, string | null, string | null>;
  input_changed: boolean;
  input_diff: ColumnType<unknown, string | null, string | null>;
  latency_ms: number;
  actor: string | null;
  request_id: string | null;
  task_id: string | null;
  cluster_id: string | null;
}

export interface ClusterMetricsTable {
  cluster_id: string;
  cluster: Json;
  nodes: ColumnType<JsonObject[], string, string>;
  blocks: ColumnType<unknown[] | null, string | null, string | null>;
  source: string;
  collected_at: ColumnType<Date, Date, Date>;
  /** Free GPU memory of the best node (a numeric, as text), maintained by Postgres: the placement ranking (migration 0006). */
  gpu_fit: GeneratedAlways<string>;
}

export interface ClusterMetricsHistoryTable {
  id: Generated<number>;
  cluster_id: string;
  cluster: Json;
  nodes: ColumnType<JsonObject[], string, string>;
  source: string;
  collected_at: DefaultedTimestamp;
}

/** Bearer API keys: only the SHA-256 of the token is kept. */
export interface ApiKeysTable {
  id: string;
  name: string;
  role: string;
  token_hash: string;
  token_prefix: string;
  /** 'api', 'config' (GATEWAY_ADMIN_TOKEN) or 'zero-setup'. */
  source: ColumnType<string, string | undefined, string>;
  created_by: string | null;
  created_at: DefaultedTimestamp;
  revoked_at: NullableTimestamp;
  revoked_by: string | null;
}

export interface Database {
  api_keys: ApiKeysTable;
  clusters: ClustersTable;
  blocks: BlocksTable;
  tasks: TasksTable;
  task_steps: TaskStepsTable;
  policies: PoliciesTable;
  policy_context: PolicyContextTable;
  precheck_map: PrecheckMapTable;
  precheck_map_history: PrecheckMapHistoryTable;
  precheck_decisions: PrecheckDecisionsTable;
  cluster_metrics: ClusterMetricsTable;
  cluster_metrics_history: ClusterMetricsHistoryTable;
}

export type ClusterMetricsRow = Selectable<ClusterMetricsTable>;

export type PolicyRow = Selectable<PoliciesTable>;
export type PrecheckMapRow = Selectable<PrecheckMapTable>;
export type PrecheckDecisionRow = Selectable<PrecheckDecisionsTable>;
export type NewPrecheckDecision = Insertable<PrecheckDecisionsTable>;
export type PrecheckMapHistoryRow = Selectable<PrecheckMapHistoryTable>;

export type ClusterRow = Selectable<ClustersTable>;
export type ApiKeyRow = Selectable<ApiKeysTable>;
export type BlockRow = Selectable<BlocksTable>;
export type NewBlock = Insertable<BlocksTable>;
export type TaskRow = Selectable<TasksTable>;
export type TaskStepRow = Selectable<TaskStepsTable>;
