/**
 * RunBatch: one batch read, transformed and written; the cursor advances only with the committed
 * write. The state machine owns the loop, the pause decision and the retry policy.
 */
import { isRetryable } from '../errors.ts';
import { AUTO_SIZING, DIRECT_AUTO_SIZING, batchLimit, nextBatchSize } from '../batch-sizing.ts';
import { directTarget } from '../direct-path.ts';
import { keysetColumns, type Cursor } from '../keyset.ts';
import type { Pipeline } from '../pipeline.ts';
import { splitDeletes } from '../soft-deletes.ts';
import { assertTargetKeys } from '../target-keys.ts';
import type { BatchProgress, DirectMover, ReadRequest, StateStore } from '../ports.ts';
import { blockBatch, type ProgressOf } from './block-batch.ts';
import { loopState, type LoopState, type RunStepsDeps, type StepContext, type StepInput } from './step-context.ts';

/** What one RunBatch attempt did, handed to the caller's report whether the attempt returns or throws (the runtime's metrics). */
export interface BatchAttemptFigures {
  /** This attempt repeats a batch an earlier attempt began and did not commit. */
  retry: boolean;
  /** The counts handed to the store with the cursor advance; null when none was (a failure, or the empty last page). */
  committed: { rowsRead: number; rowsWritten: number; rowsDeleted: number } | null;
}

type Advance = StateStore['advance'];

export function createRunBatch(deps: RunStepsDeps, { readerFor, sinkFor }: StepContext) {
  const { store, transforms, logger } = deps;

  /**
   * The JavaScript path: rows read into objects, transformed, key-checked, written by the sink.
   * Keys are checked over writes and soft deletes together: a key both deleted and written in one
   * batch is a repeated key (which of the two wins would depend on statement order).
   */
  async function readTransformWrite(pipeline: Pipeline, runId: string, request: ReadRequest, progress: ProgressOf, advance: Advance) {
    const { rows, last, done } = await readerFor(pipeline).readBatch(request);
    if (rows.length === 0) return { rowsRead: 0, rowsWritten: 0, rowsDropped: 0, last, done, path: 'rows' as const };
    const output = await transforms.compile(pipeline).run(rows);
    assertTargetKeys(output.rows, pipeline.target);
    const { upserts, deletes } = splitDeletes(output.rows, pipeline.source.deleted_flag);
    await sinkFor(pipeline, runId).write(
      upserts,
      (tx, outcome) => advance(tx, { ...progress(rows.length, upserts.length, output.dropped, last), rowsDeleted: outcome?.deleted ?? 0 }),
      deletes,
    );
    return { rowsRead: rows.length, rowsWritten: upserts.length, rowsDropped: output.dropped, last, done, path: 'rows' as const };
  }

  /** The direct path: every row read is written (nothing between reader and writer drops rows). */
  async function moveDirect(mover: DirectMover, request: ReadRequest, progress: ProgressOf, advance: Advance) {
    const moved = await mover.movePage(request, (tx, page) => advance(tx, progress(page.rowsRead, page.rowsRead, 0, page.last)));
    return { ...moved, rowsWritten: moved.rowsRead, rowsDropped: 0 };
  }

  return {
    /**
     * Reads, transforms and writes one batch; the cursor advances only with the committed write.
     * A plain pipeline into Postgres moves its page inside the databases (DirectMover); a plain one
     * into a search index reads it in blocks while writing them (block-batch.ts); the rest reads rows.
     */
    async runBatch(input: StepInput, report?: (figures: BatchAttemptFigures) => void): Promise<LoopState> {
      const state = loopState(input);
      const { run, pipeline, retry } = await store.beginBatchAttempt(state.run_id, input.execution_name);
      let committed: BatchAttemptFigures['committed'] = null;
      // Every path hands its counts to the store here, in the transaction that commits them.
      const advance: Advance = async (tx, progress) => {
        await store.advance(tx, progress);
        committed = { rowsRead: progress.rowsRead, rowsWritten: progress.rowsWritten, rowsDeleted: progress.rowsDeleted ?? 0 };
      };
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
          ? await moveDirect(deps.directMovers!.forPipeline(pipeline.source, target), request, progress, advance)
          : await (blockBatch(pipeline, readerFor(pipeline), sinkFor(pipeline, run.id), { advance })?.run(request, progress) ?? readTransformWrite(pipeline, run.id, request, progress, advance));
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
      } finally {
        report?.({ retry, committed });
      }
    },

  };
}
