/** Pipelines and their task plans: create, list, read, change, reset, delete. */
import { ConflictError } from '../../core/errors.ts';
import type { Pipeline, PipelineDefinition } from '../../core/pipeline.ts';
import { ABANDONED_BY_RESET, assertChangeable, assertDeletable, resetTransition } from '../../core/pipeline-lifecycle.ts';
import type { PageRequest } from '../../core/paging.ts';
import type { PipelineWithLastRun, StateStore } from '../../core/ports.ts';
import { batchSizeColumn, toPipeline, toRun, type PipelineRow, type RunRow } from './state-rows.ts';
import { UUID, type StateDb } from './state-db.ts';

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
        assertChangeable(id, current.status);
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
        const reset = resetTransition(id, current.status);
        if (reset.abandonsPausedRun) {
          await q(
            `UPDATE etl.pipeline_runs SET status = 'FAILED', finished_at = now(), error_name = $2, error_message = $3 WHERE pipeline_id = $1 AND status = 'PAUSED'`,
            [id, ABANDONED_BY_RESET.name, ABANDONED_BY_RESET.message],
            client,
          );
        }
        await resetProgress(client, id);
        const { rows } = await q<PipelineRow>('UPDATE etl.pipelines SET status = $2, updated_at = now() WHERE id = $1 RETURNING *', [id, reset.pipelineStatus], client);
        const [pipeline] = await withTasks(client, rows);
        return pipeline!;
      });
    },

    async deletePipeline(id: string): Promise<void> {
      await tx(async (client) => {
        const current = await lockPipeline(client, id);
        assertDeletable(id, current.status);
        await q('DELETE FROM etl.pipelines WHERE id = $1', [id], client);
      });
    },
  };
}
