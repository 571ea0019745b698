/**
 * The state machine's task steps. The state machine owns the loop, the pause decision and the
 * retry policy; each step does the I/O of one transition and throws classified errors.
 * Every step receives `{ state, execution_name, execution_arn }` (see statemachines/).
 */
import { ConflictError, InvalidDefinitionError, NotFoundError, RunStateError, isRetryable } from '../errors.ts';
import { AUTO_SIZING, DIRECT_AUTO_SIZING, batchLimit, nextBatchSize } from '../batch-sizing.ts';
import { directTarget } from '../direct-path.ts';
import { keysetColumns, type Cursor } from '../keyset.ts';
import { DEFAULT_CONNECTION, type Pipeline } from '../pipeline.ts';
import { splitDeletes } from '../soft-deletes.ts';
import { assertTargetKeys } from '../target-keys.ts';
import type { Logger } from '../logger.ts';
import type { BatchProgress, DirectMover, DirectMovers, ExecutionStarter, ReadRequest, Sink, SinkFactory, SourceReader, SourceReaders, StateStore, TakeOver, TransformCompiler } from '../ports.ts';
import { blockBatch, type ProgressOf } from './block-batch.ts';
import { executionNameFor } from './request-runs.ts';
import { createReconcileRuns, type ReconcileRuns } from './reconcile-runs.ts';
import { BUSY_STATUSES, type ScheduleTicks } from './schedule-ticks.ts';
import { DEFAULT_STALE_RUN_SECONDS, createStaleRuns } from './stale-runs.ts';

export interface StepInput {
  state: Record<string, unknown>;
  execution_name: string;
  execution_arn: string;
}

/** The loop state carried between the states of one execution. */
export interface LoopState {
  pipeline_id: string;
  run_id: string;
  batches_in_execution: number;
  batches_per_execution: number;
  done: boolean;
  pause_requested: boolean;
}

export interface RunStepsDeps {
  store: StateStore;
  readers: SourceReaders;
  sinks: SinkFactory;
  transforms: TransformCompiler;
  executions: ExecutionStarter;
  logger: Logger;
  /** Batches one execution runs before continuing as a new execution (history stays small). */
  batchesPerExecution: number;
  /** See stale-runs.ts; default 900. */
  staleRunSeconds?: number;
  /** Moves plain Postgres-to-Postgres pages inside the databases; without it every batch reads rows. */
  directMovers?: DirectMovers;
  /** See reconcile-runs.ts; built from store and executions when absent. */
  reconcile?: ReconcileRuns;
  /** Records the outcome of executions started by a schedule (input with `scheduled_at`). */
  ticks?: Pick<ScheduleTicks, 'recordExecutionTick'>;
}


export function createRunSteps(deps: RunStepsDeps) {
  const { store, readers, sinks, transforms, executions, logger } = deps;
  const readerFor = (pipeline: Pipeline): SourceReader => readers.forConnection(pipeline.source.connection ?? DEFAULT_CONNECTION);
  const sinkFor = (pipeline: Pipeline, runId: string): Sink =>
    sinks.forTarget(pipeline.target, { runId, pipelineId: pipeline.id, mode: pipeline.mode, ownRunIds: () => store.runIds(pipeline.id), readRunIds: () => readChain(pipeline.id, runId) });
  /** The run and, through resumed_from, the failed runs whose cursor it inherited. */
  async function readChain(pipelineId: string, runId: string): Promise<string[]> {
    const ids: string[] = [];
    for (let id: string | null = runId; id !== null && !ids.includes(id); ) {
      ids.push(id);
      id = (await store.getRun(pipelineId, id))?.resumed_from ?? null;
    }
    return ids;
  }
  const reconcile = deps.reconcile ?? createReconcileRuns({ store, executions, logger });
  const staleRuns = createStaleRuns({ store, executions, logger, staleRunSeconds: deps.staleRunSeconds ?? DEFAULT_STALE_RUN_SECONDS });

  const loop = (input: StepInput): LoopState => {
    const s = input.state;
    if (typeof s.pipeline_id !== 'string' || typeof s.run_id !== 'string') {
      throw new InvalidDefinitionError('the execution state has no pipeline_id/run_id');
    }
    return s as unknown as LoopState;
  };

  /**
   * An execution started outside the API (no run_id) adopts the pipeline's run. It may take over a
   * stale active run, as a run request would; while the active run's execution is alive, the claim
   * is refused. A retried StartRun of an execution that already adopted the run finds it its own.
   */
  async function adoption(pipelineId: string, executionName: string): Promise<{ runId: string | null; takeOver: TakeOver | null }> {
    try {
      const active = await store.activeRun(pipelineId);
      if (active?.run && active.run.execution_name === executionName) return { runId: active.run.id, takeOver: null };
      // Like a run request: a run whose execution ended is FAILED first, and this execution starts a new one.
      if (active?.run) await reconcile.pipeline(pipelineId);
      return { runId: null, takeOver: await staleRuns.check(pipelineId) };
    } catch (error) {
      // Domain errors never reach the state machine: for it, the run cannot start.
      if (error instanceof ConflictError || error instanceof NotFoundError) throw new RunStateError(error.message, { cause: error });
      throw error;
    }
  }

  /**
   * The JavaScript path: rows read into objects, transformed, key-checked, written by the sink.
   * Keys are checked over writes and soft deletes together: a key both deleted and written in one
   * batch is a repeated key (which of the two wins would depend on statement order).
   */
  async function readTransformWrite(pipeline: Pipeline, runId: string, request: ReadRequest, progress: ProgressOf) {
    const { rows, last, done } = await readerFor(pipeline).readBatch(request);
    if (rows.length === 0) return { rowsRead: 0, rowsWritten: 0, rowsDropped: 0, last, done, path: 'rows' as const };
    const output = await transforms.compile(pipeline).run(rows);
    assertTargetKeys(output.rows, pipeline.target);
    const { upserts, deletes } = splitDeletes(output.rows, pipeline.source.deleted_flag);
    await sinkFor(pipeline, runId).write(
      upserts,
      (tx, outcome) => store.advance(tx, { ...progress(rows.length, upserts.length, output.dropped, last), rowsDeleted: outcome?.deleted ?? 0 }),
      deletes,
    );
    return { rowsRead: rows.length, rowsWritten: upserts.length, rowsDropped: output.dropped, last, done, path: 'rows' as const };
  }

  /** The direct path: every row read is written (nothing between reader and writer drops rows). */
  async function moveDirect(mover: DirectMover, request: ReadRequest, progress: ProgressOf) {
    const moved = await mover.movePage(request, (tx, page) => store.advance(tx, progress(page.rowsRead, page.rowsRead, 0, page.last)));
    return { ...moved, rowsWritten: moved.rowsRead, rowsDropped: 0 };
  }

  /**
   * A schedule's tick that could not start a run: skipped while the pipeline is busy, else failed.
   * Recorded on the pipeline only; the execution then fails without touching any run (FailRun has
   * no run_id), so the active run it collided with carries on unharmed.
   */
  async function recordRefusedTick(pipelineId: string, scheduledAt: string, error: unknown): Promise<void> {
    try {
      const pipeline = await store.getPipeline(pipelineId);
      if (!pipeline?.schedule || !deps.ticks) return;
      const message = (error as Error).message;
      const outcome = BUSY_STATUSES.includes(pipeline.status) ? ('skipped_active' as const) : ('failed' as const);
      await deps.ticks.recordExecutionTick(pipelineId, pipeline.schedule, scheduledAt, { outcome, run_id: null, message });
      logger.info('schedule tick started nothing', { pipeline_id: pipelineId, scheduled_at: scheduledAt, outcome, reason: message });
    } catch (recordError) {
      logger.error('could not record a schedule tick', { pipeline_id: pipelineId, scheduled_at: scheduledAt, error: recordError });
    }
  }

  return {
    /**
     * Claims (or resumes, or continues) the run for this execution; prepares the sink. An execution
     * started by a schedule (`scheduled_at` in its input) never resumes a paused run, and its
     * outcome is recorded on the pipeline as the schedule's last tick.
     */
    async startRun(input: StepInput): Promise<LoopState> {
      const { pipeline_id, run_id, scheduled_at } = input.state;
      if (typeof pipeline_id !== 'string' || !pipeline_id) {
        throw new InvalidDefinitionError('execution input must be {"pipeline_id": "...", "run_id": "..." (optional)}');
      }
      const tickAt = typeof scheduled_at === 'string' && typeof run_id !== 'string' ? scheduled_at : null;
      let claimed: Awaited<ReturnType<StateStore['claimRun']>>;
      let takeOver: TakeOver | null = null;
      try {
        const adopted = typeof run_id === 'string' ? { runId: run_id, takeOver: null } : await adoption(pipeline_id, input.execution_name);
        takeOver = adopted.takeOver;
        claimed = await store.claimRun({
          pipelineId: pipeline_id,
          runId: adopted.runId,
          executionArn: input.execution_arn,
          executionName: input.execution_name,
          ...(takeOver ? { takeOver } : {}),
          ...(tickAt ? { resume: false } : {}),
        });
      } catch (error) {
        // A retryable error is retried by the state machine: the tick is not over yet.
        if (tickAt && !isRetryable(error)) await recordRefusedTick(pipeline_id, tickAt, error);
        throw error;
      }
      const { run, pipeline, firstStart } = claimed;
      if (tickAt && pipeline.schedule && deps.ticks) {
        await deps.ticks.recordExecutionTick(pipeline_id, pipeline.schedule, tickAt, { outcome: 'started', run_id: run.id, message: takeOver ? 'took over a stale run' : null });
      }
      if (takeOver) logger.warn('stale run taken over', { pipeline_id, run_id: run.id, reason: takeOver.reason, previous_execution: takeOver.executionName, execution: input.execution_name });
      const log = logger.child({ pipeline_id, run_id: run.id, execution: input.execution_name });
      if (pipeline.mode === 'incremental' && run.horizon === null) {
        const horizon = await readerFor(pipeline).horizon(pipeline.source.query, pipeline.source.incremental_key!);
        await store.setHorizon(run.id, horizon);
      }
      await sinkFor(pipeline, run.id).prepareRun?.({ fromStart: run.cursor === null });
      log.info(firstStart ? 'run started' : 'run resumed', { cursor: run.cursor, executions: run.executions });
      return { pipeline_id, run_id: run.id, batches_in_execution: 0, batches_per_execution: deps.batchesPerExecution, done: false, pause_requested: false };
    },

    /**
     * Reads, transforms and writes one batch; the cursor advances only with the committed write.
     * A plain pipeline into Postgres moves its page inside the databases (DirectMover); a plain one
     * into a search index reads it in blocks while writing them (block-batch.ts); the rest reads rows.
     */
    async runBatch(input: StepInput): Promise<LoopState> {
      const state = loop(input);
      const { run, pipeline, retry } = await store.beginBatchAttempt(state.run_id, input.execution_name);
      const target = deps.directMovers ? directTarget(pipeline) : null;
      const sizing = target ? DIRECT_AUTO_SIZING : AUTO_SIZING;
      const limit = batchLimit(pipeline.batch_size, run.next_batch_size, retry, sizing);
      const log = logger.child({ pipeline_id: pipeline.id, run_id: run.id, batch: run.batches + 1, cursor: run.cursor });
      if (retry) log.warn('retrying batch', { retries: run.retries, batch_size: limit });
      try {
        const started = performance.now();
        const request: ReadRequest = {
          query: pipeline.source.query,
          keyset: keysetColumns(pipeline),
          after: run.cursor,
          below: pipeline.mode === 'incremental' ? run.horizon : null,
          limit,
        };
        const progress = (rowsRead: number, rowsWritten: number, rowsDropped: number, to: Cursor | null): BatchProgress => ({
          runId: run.id,
          pipelineId: pipeline.id,
          from: run.cursor,
          to,
          rowsRead,
          rowsWritten,
          rowsDropped,
          checkpoint: pipeline.mode === 'incremental',
          executionName: input.execution_name,
          batchSize: limit,
          // Measured up to the commit: what the next page of this size will cost.
          nextBatchSize: nextBatchSize(pipeline.batch_size, limit, rowsRead, performance.now() - started, sizing),
        });
        const batch = target
          ? await moveDirect(deps.directMovers!.forPipeline(pipeline.source, target), request, progress)
          : await (blockBatch(pipeline, readerFor(pipeline), sinkFor(pipeline, run.id), store)?.run(request, progress) ?? readTransformWrite(pipeline, run.id, request, progress));
        if (batch.rowsRead > 0) {
          log.info('batch committed', { rows_read: batch.rowsRead, rows_written: batch.rowsWritten, rows_dropped: batch.rowsDropped, next_cursor: batch.last, batch_size: limit, path: batch.path, ms: Math.round(performance.now() - started) });
        }
        const status = await store.pipelineStatus(pipeline.id);
        return {
          ...state,
          batches_in_execution: state.batches_in_execution + (batch.rowsRead > 0 ? 1 : 0),
          done: batch.done,
          pause_requested: status === 'PAUSE_REQUESTED',
        };
      } catch (error) {
        // Logged once, here, where it is classified; the state machine decides what happens next.
        const fields = { error, retryable: isRetryable(error), retries: run.retries, batch_size: limit };
        if (isRetryable(error)) log.warn('batch failed, the state machine retries it', fields);
        else log.error('batch failed', fields);
        throw error;
      }
    },

    async completeRun(input: StepInput): Promise<LoopState> {
      const state = loop(input);
      const pipeline = (await store.getPipeline(state.pipeline_id)) ?? missing(state.pipeline_id);
      const finished = await sinkFor(pipeline, state.run_id).finishRun?.();
      const run = await store.completeRun(state.run_id, input.execution_name, { rowsDeleted: finished?.deleted ?? 0 });
      logger.info('run succeeded', { pipeline_id: state.pipeline_id, run_id: run.id, rows_read: run.rows_read, rows_written: run.rows_written, rows_deleted: run.rows_deleted, batches: run.batches, retries: run.retries });
      return state;
    },

    async pauseRun(input: StepInput): Promise<LoopState> {
      const state = loop(input);
      const run = await store.pauseRun(state.run_id, input.execution_name);
      logger.info('run paused', { pipeline_id: state.pipeline_id, run_id: run.id, cursor: run.cursor });
      return state;
    },

    /** Records the error caught by the state machine on the run (the execution then fails). */
    async failRun(input: StepInput): Promise<Record<string, unknown>> {
      const { pipeline_id, run_id, error } = input.state as { pipeline_id?: string; run_id?: string; error?: { Error?: string; Cause?: string } };
      // Bounded: a run record is shown by the API, whose answers must stay small.
      const failure = { name: (error?.Error ?? 'UnknownError').slice(0, 200), message: causeMessage(error?.Cause).slice(0, 8_000) };
      if (typeof run_id !== 'string') {
        logger.error('execution failed before a run was claimed', { pipeline_id, execution: input.execution_name, error: failure });
        return { ...input.state, recorded: false };
      }
      await store.failRun(run_id, input.execution_name, failure);
      logger.error('run failed', { pipeline_id, run_id, error: failure });
      return { ...input.state, recorded: true };
    },

    /** Hands the run to a fresh execution, so no execution's history grows without bound. */
    async continueAsNew(input: StepInput): Promise<LoopState> {
      const state = loop(input);
      const run = (await store.getRun(state.pipeline_id, state.run_id)) ?? missing(state.run_id);
      const next = executionNameFor(run.id, run.executions + 1);
      await store.handOver(run.id, input.execution_name, next);
      const { executionArn } = await executions.start(next, { pipeline_id: state.pipeline_id, run_id: run.id, continued: true });
      // Recorded now rather than at the next claim, so the stale-run rule can ask about the new owner.
      await store.startedExecution(run.id, next, executionArn);
      logger.info('run continues as a new execution', { pipeline_id: state.pipeline_id, run_id: run.id, next_execution: executionArn, batches: run.batches });
      return state;
    },
  };
}

export type RunSteps = ReturnType<typeof createRunSteps>;

function missing(id: string): never {
  throw new RunStateError(`${id} no longer exists`);
}

/** Lambda reports a Cause as JSON ({errorType, errorMessage, trace}); the local engine as text. */
function causeMessage(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // not JSON: the message itself
  }
  return cause;
}
