/** Database rows of the etl schema and their API shapes (counts as numbers, times as ISO text). */
import { AUTO_BATCH_SIZE, type BatchSize, type Pipeline, type PipelineStatus, type RunStatus, type TaskDefinition } from '../../core/pipeline.ts';
import type { RunRecord } from '../../core/ports.ts';
import { idleSeconds, type ActiveRunFacts, type OwnedRunFacts } from '../../core/run-ownership.ts';
import type { ScheduleTick } from '../../core/schedule.ts';

export interface PipelineRow {
  id: string;
  name: string;
  mode: Pipeline['mode'];
  /** NULL: sized by time ("auto"). */
  batch_size: number | null;
  source: Pipeline['source'];
  target: Pipeline['target'];
  status: PipelineStatus;
  created_at: Date;
  updated_at: Date;
  /** The last reset: runs requested before it pass no cursor on. */
  reset_at: Date | null;
  schedule: string | null;
  next_run_at: Date | null;
  last_tick_at: Date | null;
  last_tick_outcome: ScheduleTick['outcome'] | null;
  last_tick_run_id: string | null;
  last_tick_message: string | null;
}

export interface RunRow {
  id: string;
  pipeline_id: string;
  status: RunStatus;
  mode: Pipeline['mode'];
  execution_name: string | null;
  execution_arn: string | null;
  executions: number;
  rows_read: string;
  rows_written: string;
  rows_dropped: string;
  rows_deleted: string;
  batches: number;
  retries: number;
  attempted_batch: number;
  cursor: string[] | null;
  horizon: string | null;
  next_batch_size: number | null;
  batch_sizes: Record<string, number> | null;
  error_name: string | null;
  error_message: string | null;
  resumed_from: string | null;
  requested_at: Date;
  started_at: Date | null;
  heartbeat_at: Date | null;
  finished_at: Date | null;
}

const iso = (value: Date | null) => (value ? value.toISOString() : null);

export function toPipeline(row: PipelineRow, tasks: TaskDefinition[] | null): Pipeline {
  return {
    id: row.id,
    name: row.name,
    mode: row.mode,
    batch_size: row.batch_size ?? AUTO_BATCH_SIZE,
    source: row.source,
    target: row.target,
    tasks,
    status: row.status,
    schedule: row.schedule,
    next_run_at: iso(row.next_run_at),
    last_tick:
      row.last_tick_at && row.last_tick_outcome
        ? { at: row.last_tick_at.toISOString(), outcome: row.last_tick_outcome, run_id: row.last_tick_run_id, message: row.last_tick_message }
        : null,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

export function toRun(row: RunRow): RunRecord {
  return {
    id: row.id,
    pipeline_id: row.pipeline_id,
    status: row.status,
    mode: row.mode,
    execution_name: row.execution_name,
    execution_arn: row.execution_arn,
    executions: row.executions,
    rows_read: Number(row.rows_read),
    rows_written: Number(row.rows_written),
    rows_dropped: Number(row.rows_dropped),
    rows_deleted: Number(row.rows_deleted),
    batches: row.batches,
    retries: row.retries,
    cursor: row.cursor,
    horizon: row.horizon,
    next_batch_size: row.next_batch_size ?? null,
    batch_sizes: row.batch_sizes ?? {},
    error: row.error_name ? { name: row.error_name, message: row.error_message ?? '' } : null,
    resumed_from: row.resumed_from,
    requested_at: row.requested_at.toISOString(),
    started_at: iso(row.started_at),
    heartbeat_at: iso(row.heartbeat_at),
    finished_at: iso(row.finished_at),
  };
}

/** "auto" is stored as NULL. */
export const batchSizeColumn = (size: BatchSize): number | null => (size === AUTO_BATCH_SIZE ? null : size);

/** A run row with the database's clock read in the same statement (its idle time has no skew). */
export type ObservedRunRow = RunRow & { observed_at: Date };

/** The run as the ownership rules see it. */
export const ownedRun = (row: RunRow): OwnedRunFacts => ({ id: row.id, pipelineId: row.pipeline_id, status: row.status, executionName: row.execution_name });

export const runIdleSeconds = (row: ObservedRunRow): number => idleSeconds(row.observed_at, { heartbeatAt: row.heartbeat_at, requestedAt: row.requested_at });

export const activeRunFacts = (row: ObservedRunRow): ActiveRunFacts => ({ id: row.id, status: row.status, executionName: row.execution_name, idleSeconds: runIdleSeconds(row) });
