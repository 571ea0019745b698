/**
 * A run's progress as its execution drives it: claim, batches and the cursor advance, the
 * finishing transitions, and the reads of runs and checkpoints. Every write checks that the run
 * still belongs to the execution making it.
 */
import type pg from 'pg';
import { NotFoundError, RunStateError } from '../../core/errors.ts';
import type { PipelineStatus, RunStatus } from '../../core/pipeline.ts';
import type { BatchProgress, CheckpointRecord, ClaimRequest, ClaimedRun, StateStore, TransactionHandle } from '../../core/ports.ts';
import { refusedAdvance, stillStale } from './run-ownership.ts';
import { toRun, type PipelineRow, type RunRow } from './state-rows.ts';
import { ACTIVE_PIPELINE, UUID, json, type StateDb } from './state-db.ts';

export function createRunProgressStore(db: StateDb): Pick<StateStore, 'claimRun' | 'handOver' | 'pipelineStatus' | 'setHorizon' | 'beginBatchAttempt' | 'advance' | 'completeRun' | 'pauseRun' | 'failRun' | 'failUnchangedRun' | 'listRuns' | 'runIds' | 'getRun' | 'getCheckpoint'> {
  const { tx, q, lockPipeline, withTasks, lockActiveRun, lockRun } = db;

  /**
   * Finishes a run owned by `executionName`; the pipeline takes `pipelineStatus`. A PAUSED run can
   * fail too: its resuming execution failed before claiming it (or could not be started), and the
   * pipeline must not stay RUN_REQUESTED behind it.
   */
  async function finish(
    runId: string,
    executionName: string | null,
    runStatus: 'SUCCEEDED' | 'PAUSED' | 'FAILED',
    pipelineStatus: PipelineStatus,
    error?: { name: string; message: string },
    /** Reconciliation: only while the pipeline is active and the run still has this status. */
    unchanged?: { runStatus: RunStatus },
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
      if (owned.execution_name !== executionName) throw new RunStateError(`run ${runId} belongs to execution ${owned.execution_name ?? '(none)'}`);
      if (unchanged && (owned.status !== unchanged.runStatus || !ACTIVE_PIPELINE.includes(locked[0]!.status))) {
        throw new RunStateError(`run ${runId} moved on (run ${owned.status}, pipeline ${locked[0]!.status}) since it was read`);
      }
      const { rows } = await q<RunRow>(
        `UPDATE etl.pipeline_runs SET status = $2, heartbeat_at = now(),
           finished_at = CASE WHEN $2 = 'PAUSED' THEN NULL ELSE now() END,
           error_name = coalesce($3, error_name), error_message = coalesce($4, error_message),
           rows_deleted = rows_deleted + $5
         WHERE id = $1 AND (status = 'RUNNING' OR (status = 'PAUSED' AND $2 = 'FAILED')) RETURNING *`,
        [runId, runStatus, error?.name ?? null, error?.message ?? null, rowsDeleted],
        client,
      );
      const run = rows[0];
      if (!run) throw new RunStateError(`run ${runId} is not running`);
      await q('UPDATE etl.pipelines SET status = $2, updated_at = now() WHERE id = $1', [run.pipeline_id, pipelineStatus], client);
      return toRun(run);
    });
  }

  return {
    async claimRun(request: ClaimRequest): Promise<ClaimedRun> {
      return await tx(async (client) => {
        const pipeline = await lockPipeline(client, request.pipelineId).catch((error: unknown) => {
          throw error instanceof NotFoundError ? new RunStateError(error.message) : error;
        });
        let runId = request.runId;
        if (!runId) runId = await adoptForExternalExecution(client, pipeline, request);
        const run = await lockRun(client, runId);
        if (run.pipeline_id !== pipeline.id) throw new RunStateError(`run ${runId} does not belong to pipeline ${pipeline.id}`);
        if (!['RUNNING', 'PAUSED'].includes(run.status)) throw new RunStateError(`run ${runId} is ${run.status} and cannot be started`);
        if (run.execution_name !== request.executionName) {
          throw new RunStateError(`run ${runId} belongs to execution ${run.execution_name ?? '(none)'}, not ${request.executionName ?? '(unnamed)'}`);
        }
        const firstStart = run.started_at === null;
        const { rows } = await q<RunRow>(
          `UPDATE etl.pipeline_runs SET status = 'RUNNING', started_at = coalesce(started_at, now()), heartbeat_at = now(),
             executions = executions + 1, execution_arn = coalesce($2, execution_arn),
             cursor = CASE WHEN started_at IS NULL AND mode = 'incremental'
               THEN (SELECT CASE WHEN s.last_id IS NULL THEN NULL ELSE jsonb_build_array(s.last_value, s.last_id) END
                     FROM etl.etl_state s WHERE s.pipeline_id = etl.pipeline_runs.pipeline_id)
               ELSE cursor END
           WHERE id = $1 RETURNING *`,
          [runId, request.executionArn],
          client,
        );
        const status = pipeline.status === 'PAUSE_REQUESTED' ? 'PAUSE_REQUESTED' : 'RUNNING';
        const updated = await q<PipelineRow>('UPDATE etl.pipelines SET status = $2, updated_at = now() WHERE id = $1 RETURNING *', [pipeline.id, status], client);
        const [withPlan] = await withTasks(client, updated.rows);
        return { run: toRun(rows[0]!), pipeline: withPlan!, firstStart };
      });
    },

    async handOver(runId, fromExecution, toExecution) {
      const { rowCount } = await q(
        `UPDATE etl.pipeline_runs SET execution_name = $3, heartbeat_at = now() WHERE id = $1 AND status = 'RUNNING' AND execution_name IN ($2, $3)`,
        [runId, fromExecution, toExecution],
      );
      if (rowCount !== 1) throw new RunStateError(`run ${runId} is not running under execution ${fromExecution}`);
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
        if (before.status !== 'RUNNING') throw new RunStateError(`run ${runId} is ${before.status}`);
        if (before.execution_name !== executionName) throw new RunStateError(`run ${runId} belongs to execution ${before.execution_name ?? '(none)'}`);
        const retry = before.attempted_batch === before.batches + 1;
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
          throw refusedAdvance(rows[0], progress);
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

    completeRun: (runId, executionName, outcome) => finish(runId, executionName, 'SUCCEEDED', 'SUCCEEDED', undefined, undefined, outcome?.rowsDeleted),
    pauseRun: (runId, executionName) => finish(runId, executionName, 'PAUSED', 'PAUSED'),
    failRun: (runId, executionName, error) => finish(runId, executionName, 'FAILED', 'FAILED', error),
    failUnchangedRun: (runId, executionName, runStatus, error) => finish(runId, executionName, 'FAILED', 'FAILED', error, { runStatus }),

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
   * An execution started outside the API (console, `aws stepfunctions start-execution`) carries
   * only pipeline_id: request the run on its behalf and make this execution its owner.
   */
  async function adoptForExternalExecution(client: pg.ClientBase, pipeline: PipelineRow, request: ClaimRequest): Promise<string> {
    const active = await lockActiveRun(client, pipeline.id);
    if (ACTIVE_PIPELINE.includes(pipeline.status) && !(request.takeOver && stillStale(request.takeOver, active))) {
      throw new RunStateError(`pipeline ${pipeline.id} is already ${pipeline.status}`);
    }
    if (pipeline.status === 'PAUSED' && request.resume === false) throw new RunStateError(`pipeline ${pipeline.id} is PAUSED; a schedule's tick does not resume it`);
    const run =
      active ??
      (await q<RunRow>(`INSERT INTO etl.pipeline_runs (pipeline_id, status, mode) VALUES ($1, 'RUNNING', $2) RETURNING *`, [pipeline.id, pipeline.mode], client)).rows[0]!;
    await q('UPDATE etl.pipeline_runs SET execution_name = $2 WHERE id = $1', [run.id, request.executionName], client);
    return run.id;
  }
}
