/**
 * Run requests: a pipeline moves to RUN_REQUESTED with a new, resumed or taken-over run (decided
 * by lib/core/run-lifecycle.ts, written by run-creation.ts), or is asked to pause. Each is one
 * transaction holding the pipeline row lock.
 */
import { ConflictError, NotFoundError } from '../../core/errors.ts';
import type { PipelineStatus } from '../../core/pipeline.ts';
import type { ActiveRun, RunRequestOptions, RunRequestResult, StateStore } from '../../core/ports.ts';
import { pauseRequested } from '../../core/run-lifecycle.ts';
import { createRunCreation } from './run-creation.ts';
import { runIdleSeconds, toRun, type ObservedRunRow } from './state-rows.ts';
import { ACTIVE_PIPELINE, UUID, type StateDb } from './state-db.ts';

export function createRunRequestStore(db: StateDb): Pick<StateStore, 'requestRun' | 'activeRun' | 'startedExecution' | 'requestPause'> {
  const { tx, q, lockPipeline } = db;
  const { requestLocked } = createRunCreation(db);

  return {
    async requestRun(pipelineId: string, options: RunRequestOptions = {}): Promise<RunRequestResult> {
      return await tx(async (client) => {
        const { run, resumed, takenOver } = await requestLocked(client, await lockPipeline(client, pipelineId), options);
        return { run: toRun(run), resumed, takenOver };
      }).catch((error: unknown) => {
        if ((error as { cause?: { code?: string } }).cause?.code === '23505') throw new ConflictError(`pipeline ${pipelineId} already has an active run`);
        throw error;
      });
    },

    async activeRun(pipelineId: string): Promise<ActiveRun | null> {
      if (!UUID.test(pipelineId)) throw new NotFoundError(`pipeline ${pipelineId} not found`);
      const { rows } = await q<Partial<ObservedRunRow> & { pipeline_status: PipelineStatus }>(
        `SELECT p.status AS pipeline_status, r.*, now() AS observed_at
         FROM etl.pipelines p LEFT JOIN etl.pipeline_runs r ON r.pipeline_id = p.id AND r.status IN ('RUNNING', 'PAUSED')
         WHERE p.id = $1`,
        [pipelineId],
      );
      const row = rows[0];
      if (!row) throw new NotFoundError(`pipeline ${pipelineId} not found`);
      if (!ACTIVE_PIPELINE.includes(row.pipeline_status)) return null;
      if (!row.id) return { pipelineStatus: row.pipeline_status, run: null, idleSeconds: Number.POSITIVE_INFINITY };
      return { pipelineStatus: row.pipeline_status, run: toRun(row as ObservedRunRow), idleSeconds: runIdleSeconds(row as ObservedRunRow) };
    },

    async startedExecution(runId, executionName, executionArn) {
      await q('UPDATE etl.pipeline_runs SET execution_arn = $3 WHERE id = $1 AND execution_name = $2', [runId, executionName, executionArn]);
    },

    async requestPause(pipelineId: string): Promise<PipelineStatus> {
      return await tx(async (client) => {
        const pipeline = await lockPipeline(client, pipelineId);
        const status = pauseRequested(pipelineId, pipeline.status);
        await q('UPDATE etl.pipelines SET status = $2, updated_at = now() WHERE id = $1', [pipelineId, status], client);
        return status;
      });
    },
  };
}
