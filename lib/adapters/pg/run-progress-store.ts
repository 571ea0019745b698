/**
 * A run's progress as its execution drives it: claim, batches and the cursor advance, the
 * finishing transitions, and the reads of runs and checkpoints. Every write checks that the run
 * still belongs to the execution making it.
 */
import type pg from 'pg';
import { ConflictError, NotFoundError, RunStateError, TransientConflictError } from '../../core/errors.ts';
import type { PipelineStatus } from '../../core/pipeline.ts';
import type { BatchProgress, CheckpointRecord, ClaimRequest, ClaimedRun, StateStore, TransactionHandle } from '../../core/ports.ts';
import { claimedPipelineStatus, startCursor, type CheckpointFacts } from '../../core/run-lifecycle.ts';
import { advanceRefusal, assertClaimable, assertHandOver, batchAttempt, finishTransition, type FinishedRunStatus, type UnchangedSince } from '../../core/run-ownership.ts';
import { createRunCreation } from './run-creation.ts';
import { ownedRun, toRun, type PipelineRow, type RunRow } from './state-rows.ts';
import { UUID, json, type StateDb } from './state-db.ts';

export function createRunProgressStore(db: StateDb): Pick<StateStore, 'claimRun' | 'handOver' | 'pipelineStatus' | 'setHorizon' | 'beginBatchAttempt' | 'advance' | 'completeRun' | 'pauseRun' | 'failRun' | 'failUnchangedRun' | 'listRuns' | 'runIds' | 'getRun' | 'getCheckpoint'> {
  const { tx, q, lockPipeline, withTasks, lockRun } = db;
  const { requestLocked } = createRunCreation(db);

  /** Finishes a run as the ownership rules allow (finishTransition); the pipeline takes the run's new status. */
  async function finish(
    runId: string,
    executionName: string | null,
    to: FinishedRunStatus,
    error?: { name: string; message: string },
    /** Reconciliation: only while the pipeline is active and the run still has this status. */
    unchanged?: UnchangedSince,
    /** Rows the sink deleted while finishing the run (delete_missing). */
    rowsDeleted = 0,
  ) {
    return await tx(async (client) => {
      // Pipeline row first, then the run: the order of requestRun and claimRun, so that a run
      // finishing while a request takes it over or claims it cannot deadlock with it.
      const { rows: parent } = await q<{ pipeline_id: string }>('SELECT pipeline_id FROM etl.pipeline_runs WHERE id = $1', [runId], client);
      if (!parent[0]) throw new RunStateError(`run ${runId} does not exist`);
      const { rows: locked } = await q<{ status: PipelineStatus }>('SELECT status FROM etl.pipelines WHERE id = $1 FOR UPDATE', [parent[0].pipeline_id], client);
      const owned = await lockRun(client, runId);
      const next = finishTransition(ownedRun(owned), locked[0]!.status, executionName, to, unchanged);
      const { rows } = await q<RunRow>(
        `UPDATE etl.pipeline_runs SET status = $2, heartbeat_at = now(), finished_at = CASE WHEN $6 THEN now() ELSE NULL END,
           error_name = coalesce($3, error_name), error_message = coalesce($4, error_message), rows_deleted = rows_deleted + $5
         WHERE id = $1 RETURNING *`,
        [runId, next.runStatus, error?.name ?? null, error?.message ?? null, rowsDeleted, next.finished],
        client,
      );
      await q('UPDATE etl.pipelines SET status = $2, updated_at = now() WHERE id = $1', [owned.pipeline_id, next.pipelineStatus], client);
      return toRun(rows[0]!);
    });
  }

  return {
    async claimRun(request: ClaimRequest): Promise<ClaimedRun> {
      return await tx(async (client) => {
        const pipeline = await lockPipeline(client, request.pipelineId).catch((error: unknown) => {
          throw error instanceof NotFoundError ? new RunStateError(error.message) : error;
        });
        const runId = request.runId ?? (await adoptForExternalExecution(client, pipeline, request));
        const run = await lockRun(client, runId);
        assertClaimable(ownedRun(run), pipeline.id, request.executionName);
        const firstStart = run.started_at === null;
        const checkpoint = firstStart ? await loadCheckpoint(client, pipeline.id) : null;
        const cursor = startCursor({ mode: run.mode, firstStart, cursor: run.cursor }, checkpoint);
        const { rows } = await q<RunRow>(
          `UPDATE etl.pipeline_runs SET status = 'RUNNING', started_at = coalesce(started_at, now()), heartbeat_at = now(),
             executions = executions + 1, execution_arn = coalesce($2, execution_arn), cursor = $3::jsonb
           WHERE id = $1 RETURNING *`,
          [runId, request.executionArn, json(cursor)],
          client,
        );
        const updated = await q<PipelineRow>('UPDATE etl.pipelines SET status = $2, updated_at = now() WHERE id = $1 RETURNING *', [pipeline.id, claimedPipelineStatus(pipeline.status)], client);
        const [withPlan] = await withTasks(client, updated.rows);
        return { run: toRun(rows[0]!), pipeline: withPlan!, firstStart };
      });
    },

    async handOver(runId, fromExecution, toExecution) {
      await tx(async (client) => {
        const { rows } = await q<RunRow>('SELECT * FROM etl.pipeline_runs WHERE id = $1 FOR UPDATE', [runId], client);
        assertHandOver(rows[0] ? ownedRun(rows[0]) : null, runId, fromExecution, toExecution);
        await q('UPDATE etl.pipeline_runs SET execution_name = $2, heartbeat_at = now() WHERE id = $1', [runId, toExecution], client);
      });
    },

    async pipelineStatus(pipelineId) {
      const { rows } = await q<{ status: PipelineStatus }>('SELECT status FROM etl.pipelines WHERE id = $1', [pipelineId]);
      return rows[0]?.status ?? null;
    },

    async setHorizon(runId, horizon) {
      await q('UPDATE etl.pipeline_runs SET horizon = $2 WHERE id = $1', [runId, horizon]);
    },

    async beginBatchAttempt(runId: string, executionName: string | null) {
      return await tx(async (client) => {
        const before = await lockRun(client, runId);
        const { retry } = batchAttempt({ ...ownedRun(before), batches: before.batches, attemptedBatch: before.attempted_batch }, executionName);
        const { rows } = await q<RunRow>(
          `UPDATE etl.pipeline_runs SET attempted_batch = batches + 1, retries = retries + $2, heartbeat_at = now()
           WHERE id = $1 RETURNING *`,
          [runId, retry ? 1 : 0],
          client,
        );
        const pipelineRows = await q<PipelineRow>('SELECT * FROM etl.pipelines WHERE id = $1', [before.pipeline_id], client);
        const [pipeline] = await withTasks(client, pipelineRows.rows);
        return { run: toRun(rows[0]!), pipeline: pipeline!, retry };
      });
    },

    async advance(handle: TransactionHandle | null, progress: BatchProgress): Promise<void> {
      const apply = async (client: pg.ClientBase) => {
        // The guard is advanceRefusal (lib/core/run-ownership.ts) as one compare-and-set: RUNNING,
        // the cursor the batch started from, the same owner. One statement, as every batch pays it
        // (locking the row first to ask the rule costs a round trip per batch); a refusal is then
        // explained by the rule itself, over the row as it is now.
        const checkOwner = progress.executionName !== undefined;
        const { rowCount } = await q(
          `UPDATE etl.pipeline_runs SET cursor = $3::jsonb, rows_read = rows_read + $4, rows_written = rows_written + $5,
             rows_dropped = rows_dropped + $6, rows_deleted = rows_deleted + $11, batches = batches + 1, heartbeat_at = now(),
             batch_sizes = CASE WHEN $9::integer IS NULL THEN batch_sizes
               ELSE batch_sizes || jsonb_build_object($9::text, coalesce((batch_sizes ->> $9::text)::integer, 0) + 1) END,
             next_batch_size = coalesce($10::integer, next_batch_size)
           WHERE id = $1 AND status = 'RUNNING' AND cursor IS NOT DISTINCT FROM $2::jsonb
             AND ($7::boolean IS NOT TRUE OR execution_name IS NOT DISTINCT FROM $8::text)`,
          [
            progress.runId, json(progress.from), json(progress.to), progress.rowsRead, progress.rowsWritten, progress.rowsDropped,
            checkOwner, progress.executionName ?? null, progress.batchSize ?? null, progress.nextBatchSize ?? null, progress.rowsDeleted ?? 0,
          ],
          client,
        );
        if (rowCount !== 1) {
          const { rows } = await q<RunRow>('SELECT * FROM etl.pipeline_runs WHERE id = $1', [progress.runId], client);
          throw advanceRefusal(rows[0] ? { ...ownedRun(rows[0]), cursor: rows[0].cursor } : null, progress) ?? movedOn(progress.runId);
        }
        if (progress.checkpoint && progress.to) {
          await q(
            `INSERT INTO etl.etl_state (pipeline_id, last_value, last_id, run_id, updated_at) VALUES ($1, $2, $3, $4, now())
             ON CONFLICT (pipeline_id) DO UPDATE SET last_value = EXCLUDED.last_value, last_id = EXCLUDED.last_id,
               run_id = EXCLUDED.run_id, updated_at = now()`,
            [progress.pipelineId, progress.to[0], progress.to[1], progress.runId],
            client,
          );
        }
      };
      if (handle) await apply(handle as unknown as pg.ClientBase);
      else await tx(apply);
    },

    completeRun: (runId, executionName, outcome) => finish(runId, executionName, 'SUCCEEDED', undefined, undefined, outcome?.rowsDeleted),
    pauseRun: (runId, executionName) => finish(runId, executionName, 'PAUSED'),
    failRun: (runId, executionName, error) => finish(runId, executionName, 'FAILED', error),
    failUnchangedRun: (runId, executionName, runStatus, error) => finish(runId, executionName, 'FAILED', error, { runStatus }),

    async listRuns(pipelineId, page) {
      if (!UUID.test(pipelineId)) throw new NotFoundError(`pipeline ${pipelineId} not found`);
      const exists = await q('SELECT 1 FROM etl.pipelines WHERE id = $1', [pipelineId]);
      if (!exists.rowCount) throw new NotFoundError(`pipeline ${pipelineId} not found`);
      // The position is the run itself, not its requested_at as text: the column keeps microseconds,
      // which a JavaScript Date (and so RunRecord.requested_at) would round away.
      const { rows } = page.after
        ? await q<RunRow>(
            `SELECT r.* FROM etl.pipeline_runs r
             JOIN etl.pipeline_runs a ON a.id = $2 AND a.pipeline_id = $1
             WHERE r.pipeline_id = $1 AND (r.requested_at, r.id) < (a.requested_at, a.id)
             ORDER BY r.requested_at DESC, r.id DESC LIMIT $3`,
            [pipelineId, page.after, page.limit],
          )
        : await q<RunRow>('SELECT * FROM etl.pipeline_runs WHERE pipeline_id = $1 ORDER BY requested_at DESC, id DESC LIMIT $2', [pipelineId, page.limit]);
      return rows.map(toRun);
    },

    async runIds(pipelineId) {
      const { rows } = await q<{ id: string }>('SELECT id FROM etl.pipeline_runs WHERE pipeline_id = $1', [pipelineId]);
      return rows.map((row) => row.id);
    },

    async getRun(pipelineId, runId) {
      if (!UUID.test(pipelineId) || !UUID.test(runId)) return null;
      const { rows } = await q<RunRow>('SELECT * FROM etl.pipeline_runs WHERE pipeline_id = $1 AND id = $2', [pipelineId, runId]);
      return rows[0] ? toRun(rows[0]) : null;
    },

    async getCheckpoint(pipelineId): Promise<CheckpointRecord | null> {
      if (!UUID.test(pipelineId)) return null;
      const { rows } = await q<CheckpointRecord & { exists: boolean }>(
        `SELECT p.id AS pipeline_id, s.last_value, s.last_id, s.run_id, s.updated_at::text AS updated_at
         FROM etl.pipelines p LEFT JOIN etl.etl_state s ON s.pipeline_id = p.id WHERE p.id = $1`,
        [pipelineId],
      );
      return rows[0] ?? null;
    },
  };

  /**
   * An execution started outside the API (console, `aws stepfunctions start-execution`, a
   * schedule) carries only pipeline_id: the run is requested on its behalf through the one
   * run-creation path, owned by this execution. For a step, a refusal means the run cannot start.
   */
  async function adoptForExternalExecution(client: pg.ClientBase, pipeline: PipelineRow, request: ClaimRequest): Promise<string> {
    const { takeOver, resume, executionName } = request;
    const options = { ...(takeOver ? { takeOver } : {}), ...(resume === false ? { resume } : {}), ...(executionName !== null ? { nameExecution: () => executionName } : {}) };
    const requested = await requestLocked(client, pipeline, options).catch((error: unknown) => {
      throw error instanceof ConflictError ? new RunStateError(error.message, { cause: error }) : error;
    });
    return requested.run.id;
  }

  /** The checkpoint an incremental run's first claim starts from. */
  async function loadCheckpoint(client: pg.ClientBase, pipelineId: string): Promise<CheckpointFacts | null> {
    const { rows } = await q<{ last_value: string | null; last_id: string | null }>('SELECT last_value, last_id FROM etl.etl_state WHERE pipeline_id = $1', [pipelineId], client);
    return rows[0] ? { lastValue: rows[0].last_value, lastId: rows[0].last_id } : null;
  }
}

/** The run changed between the refused update and the read that explains it: read again. */
const movedOn = (runId: string) => new TransientConflictError(`run ${runId} moved on while this batch committed; read again from the new cursor`);
