/**
 * The ports of the domain core. Adapters (lib/adapters) implement them over PostgreSQL, the
 * search engines and Step Functions; use-cases (lib/core/use-cases) depend only on these.
 */
import type { Cursor } from './keyset.ts';
import type { PipelineDefinition, PipelineStatus, PostgresTarget, SourceDefinition, TargetDefinition } from './pipeline.ts';

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

/**
 * A sub-page of one read, its rows as arrays: the values by position, named by `columns`. A row
 * array may hold further values after the named ones (the reader's own); they are not part of the row.
 */
export interface RowBlock {
  columns: string[];
  rows: unknown[][];
  /** Position in the batch of the block's first row (0 for the first block). */
  offset: number;
}

/** What a read in blocks read, once every block was handed over. */
export interface BlockReadResult {
  rowsRead: number;
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
   * The same page as `readBatch`, with the same statement, session and checks, handed over in
   * blocks of at most `blockRows` rows while the statement is still being read: `onBlock` is
   * awaited before the next block is fetched, so the caller can write a block while the next is
   * read, and decide how far ahead it lets the read run. `onBlock` must not throw. A
   * KeyIntegrityError or a failed statement rejects after the blocks before it were handed over.
   */
  readBlocks?(request: ReadRequest, blockRows: number, onBlock: (block: RowBlock) => Promise<void>): Promise<BlockReadResult>;
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
  /**
   * Writes a batch of rows read as arrays (`columns` names their values, `omit` lists the control
   * columns that are not written, e.g. source.deleted_flag), block by block; optional: a sink
   * without it is given row objects. Only for rows that no transform changes.
   */
  openBlockWrite?(columns: string[], omit: readonly string[]): BlockWrite;
}

/**
 * One batch written block by block, as the reader hands the blocks over (see Sink.openBlockWrite).
 * Writes are idempotent as with `Sink.write`; nothing here advances the cursor.
 */
export interface BlockWrite {
  /**
   * Starts writing a block: `deletes[i]` true deletes the key of row i instead of writing it
   * (null: no row deletes). Resolves once the next block may be read (the sink bounds what it
   * keeps in flight). Throws RejectedRowError for a row it cannot write; after a failure it
   * starts nothing more.
   */
  add(block: RowBlock, deletes: readonly boolean[] | null): Promise<void>;
  /** True once something failed: the caller stops adding blocks. */
  readonly failed: boolean;
  /**
   * Waits for everything started, then answers what the deletes removed, or throws the failure
   * of the earliest block, as if the blocks had been written one at a time.
   */
  finish(): Promise<WriteOutcome>;
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

// ---- state: lib/core/state-ports.ts ---------------------------------------------------------

export type * from './state-ports.ts';

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
