/**
 * The state port: what the core asks of the platform's own records (pipelines, runs, checkpoints).
 * Re-exported by ports.ts, so importers name one module.
 */
import type { Cursor } from './keyset.ts';
import type { Pipeline, PipelineDefinition, PipelineStatus, RunStatus } from './pipeline.ts';
import type { PageRequest } from './paging.ts';
import type { TransactionHandle } from './ports.ts';


export interface RunRecord {
  id: string;
  pipeline_id: string;
  status: RunStatus;
  mode: PipelineDefinition['mode'];
  execution_name: string | null;
  execution_arn: string | null;
  executions: number;
  rows_read: number;
  rows_written: number;
  rows_dropped: number;
  /** Keys removed from the target: soft deletes, and delete_missing at the run's end. */
  rows_deleted: number;
  batches: number;
  retries: number;
  cursor: Cursor | null;
  horizon: string | null;
  /** The size of the next batch of a pipeline sized by time (batch_size "auto"); null otherwise. */
  next_batch_size: number | null;
  /** How many batches of each size the run committed: {"5000": 1, "20000": 3}. */
  batch_sizes: Record<string, number>;
  error: { name: string; message: string } | null;
  resumed_from: string | null;
  requested_at: string;
  started_at: string | null;
  heartbeat_at: string | null;
  finished_at: string | null;
}

export interface PipelineWithLastRun extends Pipeline {
  last_run: RunRecord | null;
}

export interface CheckpointRecord {
  pipeline_id: string;
  last_value: string | null;
  last_id: string | null;
  run_id: string | null;
  updated_at: string | null;
}

export interface BatchProgress {
  runId: string;
  pipelineId: string;
  /** The cursor this batch started from: the update is refused if another attempt moved it. */
  from: Cursor | null;
  to: Cursor | null;
  rowsRead: number;
  rowsWritten: number;
  rowsDropped: number;
  /** Target rows or documents the batch deleted (soft deletes); absent counts 0. */
  rowsDeleted?: number;
  /** Incremental pipelines move their checkpoint in etl.etl_state with the run's cursor. */
  checkpoint: boolean;
  /** The page size this batch asked for (counted in the run's batch_sizes). */
  batchSize?: number;
  /** The size of the run's next batch (auto-sized pipelines); null or absent keeps it. */
  nextBatchSize?: number | null;
  /**
   * The execution running the batch: the update is refused (RunStateError) when the run no longer
   * belongs to it, so an execution that lost the run to a takeover cannot commit. Unchecked when absent.
   */
  executionName?: string | null;
}

export interface ClaimRequest {
  pipelineId: string;
  /** False for a schedule's tick: a PAUSED pipeline refuses the claim (RunStateError) instead of resuming. */
  resume?: boolean;
  runId: string | null;
  executionArn: string | null;
  executionName: string | null;
  /**
   * For an execution started without run_id while the pipeline has a stale active run: take that
   * run over (see TakeOver). Without it, an active pipeline refuses the claim.
   */
  takeOver?: TakeOver;
}

export interface ClaimedRun {
  run: RunRecord;
  pipeline: Pipeline;
  /** True the first time the run starts (not on resume or continuation). */
  firstStart: boolean;
}

export interface RunRequestResult {
  run: RunRecord;
  /** A paused run resumed, rather than a new run created. */
  resumed: boolean;
  /** The pipeline's stale active run was taken over (it is resumed from its cursor by a new execution). */
  takenOver?: boolean;
}

/** The pipeline's active run as the stale-run rule needs it. */
export interface ActiveRun {
  pipelineStatus: PipelineStatus;
  /** The RUNNING or PAUSED run; null when an active pipeline has none (nothing can be running it). */
  run: RunRecord | null;
  /** Seconds since the run last showed life (heartbeat, else request), by the database's clock. */
  idleSeconds: number;
}

/**
 * A takeover of a stale active run, decided outside the database (Step Functions was asked) and
 * re-checked under the row locks: it is refused (ConflictError) if the run changed hands since, or
 * if `minIdleSeconds` is set and the run showed life within that many seconds.
 */
export interface TakeOver {
  runId: string | null;
  /** The owner judged dead. */
  executionName: string | null;
  /** Set when staleness rests on the heartbeat alone (Step Functions could not tell). */
  minIdleSeconds: number | null;
  /** Why the run is stale, for the log and the conflict message. */
  reason: string;
}

export interface RunRequestOptions {
  /** False for a schedule's tick: a PAUSED pipeline answers ConflictError instead of resuming its run. */
  resume?: boolean;
  /** Take over the pipeline's stale active run instead of answering ConflictError. */
  takeOver?: TakeOver;
  /**
   * Names the execution that will own the run. The store assigns the name in the same transaction
   * as the request, so ownership moves atomically (a zombie owner cannot write in between).
   * Without it the run keeps its execution name.
   */
  nameExecution?: (run: RunRecord, takenOver: boolean) => string;
}

export interface StateStore {
  createPipeline(definition: PipelineDefinition): Promise<Pipeline>;
  /**
   * Pipelines in name order; with `page`, at most `page.limit` of them whose name comes after
   * `page.after` (keyset, see paging.ts). Without it, all of them (not for the API).
   */
  listPipelines(page?: PageRequest): Promise<Pipeline[]>;
  getPipeline(id: string): Promise<PipelineWithLastRun | null>;
  /**
   * Replaces the definition while the pipeline is neither running nor paused; ConflictError
   * otherwise. With `reset`, also forgets the checkpoint and every resume point (see resetPipeline).
   */
  updatePipeline(id: string, definition: PipelineDefinition, options: { reset: boolean }): Promise<Pipeline>;
  /**
   * Forgets the incremental checkpoint and any failed run's resume point, so the next run reads
   * from the beginning; a paused run is abandoned (FAILED, saying so) and the pipeline becomes
   * IDLE. ConflictError while a run is active.
   */
  resetPipeline(id: string): Promise<Pipeline>;
  /** Deletes a pipeline that is not running or paused; ConflictError otherwise. */
  deletePipeline(id: string): Promise<void>;

  /**
   * Atomically moves the pipeline to RUN_REQUESTED with a new, resumed or (with `takeOver`) taken-over
   * run; ConflictError when a run is active and not taken over. Sets the run's heartbeat.
   */
  requestRun(pipelineId: string, options?: RunRequestOptions): Promise<RunRequestResult>;
  /** The active run of an active pipeline (null when the pipeline is not active); NotFoundError when missing. */
  activeRun(pipelineId: string): Promise<ActiveRun | null>;
  /** Atomically asks a running pipeline to pause at the next batch boundary; ConflictError when not running. */
  requestPause(pipelineId: string): Promise<PipelineStatus>;

  claimRun(request: ClaimRequest): Promise<ClaimedRun>;
  setHorizon(runId: string, horizon: string | null): Promise<void>;
  /** Marks the start of a batch attempt; counts a retry when the same batch was attempted before. */
  beginBatchAttempt(runId: string, executionName: string | null): Promise<{ run: RunRecord; pipeline: Pipeline; retry: boolean }>;
  /** Advances the run (and checkpoint) inside `tx` when given, else in its own transaction. */
  advance(tx: TransactionHandle | null, progress: BatchProgress): Promise<void>;
  /** The finishing transitions; each refuses a run not owned by `executionName` (RunStateError). */
  completeRun(runId: string, executionName: string | null, outcome?: { rowsDeleted: number }): Promise<RunRecord>;
  pauseRun(runId: string, executionName: string | null): Promise<RunRecord>;
  failRun(runId: string, executionName: string | null, error: { name: string; message: string }): Promise<RunRecord>;
  /**
   * Reconciliation's failRun: fails the run only if, under the locks, it still belongs to
   * `executionName`, still has `runStatus` and its pipeline is still active (RunStateError
   * otherwise), so a decision made from an earlier read cannot undo a pause or a takeover.
   */
  failUnchangedRun(runId: string, executionName: string | null, runStatus: RunStatus, error: { name: string; message: string }): Promise<RunRecord>;
  startedExecution(runId: string, executionName: string, executionArn: string): Promise<void>;
  /** Passes ownership of a running run to the execution that continues it (idempotent). */
  handOver(runId: string, fromExecution: string, toExecution: string): Promise<void>;
  pipelineStatus(pipelineId: string): Promise<PipelineStatus | null>;

  /**
   * At most `page.limit` runs, newest first by (requested_at, id), after the run `page.after`
   * (nothing when that run is not one of this pipeline's); NotFoundError for an unknown pipeline.
   */
  listRuns(pipelineId: string, page: PageRequest): Promise<RunRecord[]>;
  /** The ids of every run the pipeline has had (its sinks' per-run objects are named after them). */
  runIds(pipelineId: string): Promise<string[]>;
  getRun(pipelineId: string, runId: string): Promise<RunRecord | null>;
  getCheckpoint(pipelineId: string): Promise<CheckpointRecord | null>;
}
