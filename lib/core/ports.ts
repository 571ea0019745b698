/**
 * The ports of the domain core. Adapters (lib/adapters) implement them over PostgreSQL, the
 * search engines and Step Functions; use-cases (lib/core/use-cases) depend only on these.
 */
import type { Cursor } from './keyset.ts';
import type { Pipeline, PipelineDefinition, PipelineStatus, PostgresTarget, RunStatus, SourceDefinition, TargetDefinition } from './pipeline.ts';
import type { PageRequest } from './paging.ts';

export type Row = Record<string, unknown>;

// ---- reading ---------------------------------------------------------------------------------

export interface ReadRequest {
  query: string;
  /** Columns of the user's query that order the read (keyset). */
  keyset: string[];
  /** Resume strictly after this position; null reads from the start. */
  after: Cursor | null;
  /** Incremental reads stop below this value of keyset[0] (late-commit horizon), if set. */
  below: string | null;
  limit: number;
}

export interface ReadResult {
  rows: Row[];
  /** Keyset position of the last row read; null when no row was read. */
  last: Cursor | null;
  /** No row follows this page (the reader looked one row past it). */
  done: boolean;
}

export interface SourceReader {
  /**
   * Reads one page of the user's SQL as one statement (extended protocol), read-only, with a
   * statement timeout, on a session no platform statement uses. KeyIntegrityError when a keyset
   * column is NULL or a keyset value repeats (within the page or across its end).
   */
  readBatch(request: ReadRequest): Promise<ReadResult>;
  /**
   * The value of `column` below which no still-open writer can commit a row, or null when the
   * column is not a timestamp (no horizon applies). See docs/ARCHITECTURE.md "Late commits".
   */
  horizon(query: string, column: string): Promise<string | null>;
}

/** Readers by connection name (`default` is the platform's own database). */
export interface SourceReaders {
  forConnection(connection: string): SourceReader;
}

// ---- checking a definition against its databases ---------------------------------------------

export interface ColumnInfo {
  name: string;
  /** PostgreSQL's name of the type, e.g. `timestamp with time zone`, `character varying(20)`. */
  type: string;
}

export interface TableInfo {
  /** The table as found, `schema.table`. */
  name: string;
  columns: string[];
  /** The column sets of its unique indexes and constraints (primary key included), each sorted. */
  uniqueKeys: string[][];
}

export interface DefinitionInspector {
  /**
   * The columns of the query's result, from `LIMIT 0` on a read session (one statement, read-only,
   * short timeout): SourceQueryError with the server's message when it refuses the query,
   * ConnectionLostError when the connection cannot be reached.
   */
  queryColumns(connection: string, query: string): Promise<ColumnInfo[]>;
  /** The table, or null and the tables whose names differ from it only by letter case. */
  table(connection: string, table: string): Promise<{ found: TableInfo | null; similar: string[] }>;
}

// ---- connections -----------------------------------------------------------------------------

/** What may be shown of a connection: never its password or URL. */
export interface ConnectionInfo {
  name: string;
  host: string;
  database: string;
  user: string;
  /** A short connect-and-SELECT-1 check succeeded. */
  ok: boolean;
}

export interface ConnectionDirectory {
  /** The configured connection names, `default` first. */
  names(): string[];
  /** Every connection with a quick reachability check. */
  check(): Promise<ConnectionInfo[]>;
}

// ---- writing ---------------------------------------------------------------------------------

/** An open transaction of the state database, opaque to the core. */
export type TransactionHandle = { readonly __transaction: unique symbol };

/** What a write did besides writing: deletes by key actually removed (absent keys count 0). */
export interface WriteOutcome {
  deleted: number;
}

export interface Sink {
  /**
   * Writes the rows idempotently and deletes the keys of `deletes` (rows of a soft delete, only
   * their key is used), then calls `commitProgress` so the cursor advances only after both are
   * durable. A sink living in the state database passes its open transaction, so all commit
   * together; other sinks pass null after their write succeeded. Deleting an absent key is not
   * an error, so a replayed batch changes nothing.
   */
  write(rows: Row[], commitProgress: (tx: TransactionHandle | null, outcome?: WriteOutcome) => Promise<void>, deletes?: Row[]): Promise<{ written: number; deleted: number }>;
  /**
   * Called by every StartRun (first start, resume, continuation): create the index, build a fresh
   * one. `fromStart` is true when the run has read nothing yet (its cursor is null).
   */
  prepareRun?(run: { fromStart: boolean }): Promise<void>;
  /**
   * Called when a run succeeds, before it is recorded so (e.g. swap an alias, delete what the run
   * did not read); may be called again by a retried CompleteRun, and must then do nothing twice.
   */
  finishRun?(): Promise<WriteOutcome | void>;
}

export interface SinkContext {
  runId: string;
  pipelineId: string;
  mode: PipelineDefinition['mode'];
  /**
   * The ids of every run of this pipeline: a sink that creates per-run objects (the search
   * alias_reload indices) removes only those of its own runs, never another pipeline's.
   */
  ownRunIds: () => Promise<string[]>;
  /**
   * The run itself and the failed runs whose read it continues (a full run inherits a failed
   * run's cursor): what they wrote was read by this run's read. Used by delete_missing.
   */
  readRunIds?: () => Promise<string[]>;
}

export interface SinkFactory {
  forTarget(target: TargetDefinition, context: SinkContext): Sink;
}

/** One page moved inside the databases (see DirectMover). */
export interface MovedPage {
  rowsRead: number;
  /** Keyset position of the page's last row; null when the page was empty. */
  last: Cursor | null;
  done: boolean;
  /** How it moved: one statement in the database, or COPY out of the source into the target. */
  path: 'pushdown' | 'copy';
}

/**
 * Moves keyset pages from the source to a Postgres target without the rows becoming JavaScript
 * objects, with the same guarantees as reading then writing: KeyIntegrityError for NULL or
 * repeated keyset values and NULL or repeated target keys, idempotent upserts, user SQL as one
 * statement. `commitProgress` is called before the write commits, in its transaction, when the
 * target lives in the state database; after it committed otherwise. Not called for an empty page.
 */
export interface DirectMover {
  movePage(request: ReadRequest, commitProgress: (tx: TransactionHandle | null, page: { rowsRead: number; last: Cursor }) => Promise<void>): Promise<MovedPage>;
}

export interface DirectMovers {
  /** The mover from `source` to `target`: pushdown when they share a connection and the target allows it, COPY otherwise. */
  forPipeline(source: SourceDefinition, target: PostgresTarget): DirectMover;
}

// ---- transforming ----------------------------------------------------------------------------

/** The compiled steps between reader and writer: rows in, rows out (may drop or emit rows). */
export interface RowPipeline {
  /** `dropped` counts input rows that produced no output row (filtered out by a task). */
  run(rows: Row[]): Promise<{ rows: Row[]; dropped: number }>;
}

export interface TransformCompiler {
  /** Validates a task plan (names, params, expressions); throws ValidationError naming the task. */
  validate(definition: PipelineDefinition): void;
  /** Builds the row pipeline of a definition (identity when it has no transform tasks). */
  compile(definition: PipelineDefinition): RowPipeline;
}

// ---- state -----------------------------------------------------------------------------------

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

// ---- orchestration ---------------------------------------------------------------------------

export interface ExecutionInput {
  pipeline_id: string;
  run_id: string;
  continued?: boolean;
}

/**
 * The input of an execution started by a schedule (EventBridge Scheduler fills `scheduled_at`
 * with `<aws.scheduler.scheduled-time>`): no run_id, so StartRun adopts or creates the run, and the
 * marker makes it a tick: it never resumes a paused run and its outcome is recorded on the pipeline.
 */
export interface ScheduledExecutionInput {
  pipeline_id: string;
  scheduled_at: string;
}

/** Step Functions execution statuses, plus NOT_FOUND for an ARN the service does not know. */
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE' | 'NOT_FOUND';

export interface ExecutionStarter {
  /** Starts an execution of the run state machine; UpstreamUnavailableError when the service does not answer. */
  start(name: string, input: ExecutionInput): Promise<{ executionArn: string }>;
  /**
   * The status of an execution; UpstreamUnavailableError when the service does not answer.
   * Optional: without it, a stale run is recognised by its heartbeat alone.
   */
  describe?(executionArn: string): Promise<{ status: ExecutionStatus; error?: string | null; cause?: string | null }>;
  /** The ARN an execution of the run state machine gets from its name (to ask about it before its start is confirmed). */
  executionArn?(name: string): string;
}

export type { PipelineStatus };
