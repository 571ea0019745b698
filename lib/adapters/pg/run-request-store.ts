/**
 * Run requests: a pipeline moves to RUN_REQUESTED with a new, resumed or taken-over run, or is
 * asked to pause. Each is one transaction holding the pipeline row lock.
 */
import { ConflictError, NotFoundError } from '../../core/errors.ts';
import type { PipelineStatus } from '../../core/pipeline.ts';
import type { ActiveRun, RunRequestOptions, RunRequestResult, StateStore } from '../../core/ports.ts';
import { IDLE_SECONDS, stillStale, type ActiveRunRow } from './run-ownership.ts';
import { toRun, type RunRow } from './state-rows.ts';
import { ACTIVE_PIPELINE, UUID, type StateDb } from './state-db.ts';

export function createRunRequestStore(db: StateDb): Pick<StateStore, 'requestRun' | 'activeRun' | 'startedExecution' | 'requestPause'> {
  const { tx, q, lockPipeline, lockActiveRun } = db;

  return {
    async requestRun(pipelineId: string, options: RunRequestOptions = {}): Promise<RunRequestResult> {
      return await tx(async (client) => {
        const pipeline = await lockPipeline(client, pipelineId);
        const busy = ACTIVE_PIPELINE.includes(pipeline.status);
        if (busy && !options.takeOver) throw new ConflictError(`pipeline ${pipelineId} is already ${pipeline.status}`);
        const active = await lockActiveRun(client, pipelineId);
        let run: RunRow | undefined;
        let resumed = false;
        let takenOver = false;
        if (busy) {
          if (!stillStale(options.takeOver!, active)) throw new ConflictError(`pipeline ${pipelineId} is already ${pipeline.status}`);
          // The stale run keeps its cursor and counters; the new execution resumes it.
          run = active;
          resumed = takenOver = true;
        } else if (pipeline.status === 'PAUSED' && active?.status === 'PAUSED') {
          if (options.resume === false) throw new ConflictError(`pipeline ${pipelineId} is PAUSED; only a run request resumes it, a schedule's tick does not`);
          run = active;
          resumed = true;
        }
        if (!run) {
          // A failed run's committed progress is not lost: its successor starts from its cursor.
          const { rows } = await q<RunRow>(
            `INSERT INTO etl.pipeline_runs (pipeline_id, status, mode, cursor, horizon, resumed_from)
             SELECT $1, 'RUNNING', $2, f.cursor, f.horizon, f.id
             FROM (SELECT NULL) AS one
             LEFT JOIN LATERAL (
               SELECT id, cursor, horizon FROM etl.pipeline_runs
               WHERE pipeline_id = $1 AND status = 'FAILED' AND cursor IS NOT NULL
                 AND requested_at > coalesce((SELECT max(requested_at) FROM etl.pipeline_runs WHERE pipeline_id = $1 AND status = 'SUCCEEDED'), '-infinity')
                 AND requested_at > coalesce($3::timestamptz, '-infinity')
               ORDER BY requested_at DESC LIMIT 1) f ON $2 = 'full'
             RETURNING *`,
            [pipelineId, pipeline.mode, pipeline.reset_at],
            client,
          );
          run = rows[0]!;
        }
        // Naming the owner here moves ownership in the same transaction as the request: a stale
        // owner that wakes up finds the run no longer its own at its next write.
        const name = options.nameExecution?.(toRun(run), takenOver) ?? null;
        const { rows } = await q<RunRow>(
          `UPDATE etl.pipeline_runs SET heartbeat_at = now(), execution_name = coalesce($2, execution_name),
             execution_arn = CASE WHEN $2::text IS NULL THEN execution_arn ELSE '' END
           WHERE id = $1 RETURNING *`,
          [run.id, name],
          client,
        );
        await q(`UPDATE etl.pipelines SET status = 'RUN_REQUESTED', updated_at = now() WHERE id = $1`, [pipelineId], client);
        return { run: toRun(rows[0]!), resumed, takenOver };
      }).catch((error: unknown) => {
        if ((error as { cause?: { code?: string } }).cause?.code === '23505') throw new ConflictError(`pipeline ${pipelineId} already has an active run`);
        throw error;
      });
    },

    async activeRun(pipelineId: string): Promise<ActiveRun | null> {
      if (!UUID.test(pipelineId)) throw new NotFoundError(`pipeline ${pipelineId} not found`);
      const { rows } = await q<Partial<ActiveRunRow> & { pipeline_status: PipelineStatus }>(
        `SELECT p.status AS pipeline_status, r.*, ${IDLE_SECONDS} AS idle_seconds
         FROM etl.pipelines p LEFT JOIN etl.pipeline_runs r ON r.pipeline_id = p.id AND r.status IN ('RUNNING', 'PAUSED')
         WHERE p.id = $1`,
        [pipelineId],
      );
      const row = rows[0];
      if (!row) throw new NotFoundError(`pipeline ${pipelineId} not found`);
      if (!ACTIVE_PIPELINE.includes(row.pipeline_status)) return null;
      if (!row.id) return { pipelineStatus: row.pipeline_status, run: null, idleSeconds: Number.POSITIVE_INFINITY };
      return { pipelineStatus: row.pipeline_status, run: toRun(row as ActiveRunRow), idleSeconds: Number(row.idle_seconds) };
    },

    async startedExecution(runId, executionName, executionArn) {
      await q('UPDATE etl.pipeline_runs SET execution_arn = $3 WHERE id = $1 AND execution_name = $2', [runId, executionName, executionArn]);
    },

    async requestPause(pipelineId: string): Promise<PipelineStatus> {
      if (!UUID.test(pipelineId)) throw new NotFoundError(`pipeline ${pipelineId} not found`);
      const { rows } = await q<{ status: PipelineStatus }>(
        `UPDATE etl.pipelines SET status = 'PAUSE_REQUESTED', updated_at = now()
         WHERE id = $1 AND status IN ('RUN_REQUESTED', 'RUNNING', 'PAUSE_REQUESTED') RETURNING status`,
        [pipelineId],
      );
      if (rows[0]) return rows[0].status;
      const current = await q<{ status: PipelineStatus }>('SELECT status FROM etl.pipelines WHERE id = $1', [pipelineId]);
      if (!current.rows[0]) throw new NotFoundError(`pipeline ${pipelineId} not found`);
      throw new ConflictError(`pipeline ${pipelineId} is not running (status ${current.rows[0].status})`);
    },
  };
}
