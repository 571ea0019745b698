/** Pipelines and their task plans: create, list, read, change, reset, delete. */
import { ConflictError } from '../../core/errors.ts';
import type { Pipeline, PipelineDefinition } from '../../core/pipeline.ts';
import type { PageRequest } from '../../core/paging.ts';
import type { PipelineWithLastRun, StateStore } from '../../core/ports.ts';
import { batchSizeColumn, toPipeline, toRun, type PipelineRow, type RunRow } from './state-rows.ts';
import { ACTIVE_PIPELINE, UUID, type StateDb } from './state-db.ts';

export function createPipelineStore(db: StateDb): Pick<StateStore, 'createPipeline' | 'listPipelines' | 'getPipeline' | 'updatePipeline' | 'resetPipeline' | 'deletePipeline'> {
  const { pool, tx, q, lockPipeline, withTasks, saveTasks, resetProgress } = db;

  return {
    async createPipeline(definition: PipelineDefinition): Promise<Pipeline> {
      return await tx(async (client) => {
        const inserted = await client
          .query<PipelineRow>(
            `INSERT INTO etl.pipelines (name, mode, batch_size, source, target) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
            [definition.name, definition.mode, batchSizeColumn(definition.batch_size), definition.source, definition.target],
          )
          .catch((error: { code?: string }) => {
            if (error.code === '23505') throw new ConflictError(`a pipeline named "${definition.name}" already exists`);
            throw error;
          });
        const row = inserted.rows[0]!;
        await saveTasks(client, row.id, definition.tasks);
        return toPipeline(row, definition.tasks);
      });
    },

    async listPipelines(page?: PageRequest): Promise<Pipeline[]> {
      const { rows } = page
        ? await q<PipelineRow>('SELECT * FROM etl.pipelines WHERE $1::text IS NULL OR name > $1 ORDER BY name LIMIT $2', [page.after, page.limit])
        : await q<PipelineRow>('SELECT * FROM etl.pipelines ORDER BY name');
      return await withTasks(pool, rows);
    },

    async getPipeline(id: string): Promise<PipelineWithLastRun | null> {
      if (!UUID.test(id)) return null;
      const { rows } = await q<PipelineRow>('SELECT * FROM etl.pipelines WHERE id = $1', [id]);
      if (!rows[0]) return null;
      const [pipeline] = await withTasks(pool, rows);
      const last = await q<RunRow>('SELECT * FROM etl.pipeline_runs WHERE pipeline_id = $1 ORDER BY requested_at DESC LIMIT 1', [id]);
      return { ...pipeline!, last_run: last.rows[0] ? toRun(last.rows[0]) : null };
    },

    async updatePipeline(id: string, definition: PipelineDefinition, options: { reset: boolean }): Promise<Pipeline> {
      return await tx(async (client) => {
        const current = await lockPipeline(client, id);
        if ([...ACTIVE_PIPELINE, 'PAUSED'].includes(current.status)) {
          throw new ConflictError(`pipeline ${id} is ${current.status}; change it when it is not running or paused (a paused run can be abandoned with POST /pipelines/${id}/reset)`);
        }
        if (options.reset) await resetProgress(client, id);
        const { rows } = await q<PipelineRow>(
          'UPDATE etl.pipelines SET mode = $2, batch_size = $3, source = $4, target = $5, updated_at = now() WHERE id = $1 RETURNING *',
          [id, definition.mode, batchSizeColumn(definition.batch_size), definition.source, definition.target],
          client,
        );
        await saveTasks(client, id, definition.tasks);
        return toPipeline(rows[0]!, definition.tasks);
      });
    },

    async resetPipeline(id: string): Promise<Pipeline> {
      return await tx(async (client) => {
        const current = await lockPipeline(client, id);
        if (ACTIVE_PIPELINE.includes(current.status)) {
          throw new ConflictError(`pipeline ${id} is ${current.status}; pause it (or let it finish) before resetting it`);
        }
        if (current.status === 'PAUSED') {
          await q(
            `UPDATE etl.pipeline_runs SET status = 'FAILED', finished_at = now(), error_name = 'RunAbandonedError',
               error_message = 'the paused run was abandoned by a reset of the pipeline; the next run reads from the beginning'
             WHERE pipeline_id = $1 AND status = 'PAUSED'`,
            [id],
            client,
          );
        }
        await resetProgress(client, id);
        const { rows } = await q<PipelineRow>(`UPDATE etl.pipelines SET status = 'IDLE', updated_at = now() WHERE id = $1 RETURNING *`, [id], client);
        const [pipeline] = await withTasks(client, rows);
        return pipeline!;
      });
    },

    async deletePipeline(id: string): Promise<void> {
      await tx(async (client) => {
        const current = await lockPipeline(client, id);
        if ([...ACTIVE_PIPELINE, 'PAUSED'].includes(current.status)) {
          throw new ConflictError(
            current.status === 'PAUSED'
              ? `pipeline ${id} is PAUSED; resume it, or abandon its run with POST /pipelines/${id}/reset, before deleting it`
              : `pipeline ${id} is ${current.status}; pause it (then reset it) or let it finish before deleting it`,
          );
        }
        await q('DELETE FROM etl.pipelines WHERE id = $1', [id], client);
      });
    },
  };
}
