/**
 * What the state stores share: the state pool, its transaction and query helpers, and the row
 * locks and task-plan reads that more than one store needs. Lock order everywhere: the pipeline
 * row first, then its run (requests, claims and finishes cannot deadlock one another).
 */
import type pg from 'pg';
import { NotFoundError, RunStateError } from '../../core/errors.ts';
import { ACTIVE_PIPELINE_STATUSES, type Pipeline, type PipelineStatus, type TaskDefinition } from '../../core/pipeline.ts';
import { classifyPgError } from './classify.ts';
import { toPipeline, type ObservedRunRow, type PipelineRow, type RunRow } from './state-rows.ts';
import { withTransaction } from './transaction.ts';

export const ACTIVE_PIPELINE: readonly PipelineStatus[] = ACTIVE_PIPELINE_STATUSES;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createStateDb(pool: pg.Pool) {
  const tx = <T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> => withTransaction(pool, 'state', work);

  const q = async <R extends pg.QueryResultRow>(sql: string, params: unknown[] = [], client: pg.ClientBase | pg.Pool = pool) =>
    await client.query<R>(sql, params).catch((error: unknown) => {
      throw classifyPgError(error, 'state');
    });

  async function lockPipeline(client: pg.ClientBase, id: string): Promise<PipelineRow> {
    if (!UUID.test(id)) throw new NotFoundError(`pipeline ${id} not found`);
    const { rows } = await q<PipelineRow>('SELECT * FROM etl.pipelines WHERE id = $1 FOR UPDATE', [id], client);
    if (!rows[0]) throw new NotFoundError(`pipeline ${id} not found`);
    return rows[0];
  }

  async function loadTasks(client: pg.ClientBase | pg.Pool, ids: string[]): Promise<Map<string, TaskDefinition[]>> {
    const byPipeline = new Map<string, TaskDefinition[]>();
    if (ids.length === 0) return byPipeline;
    const { rows } = await q<{ pipeline_id: string; kind: string; name: string; config: Record<string, unknown> }>(
      'SELECT pipeline_id, kind, name, config FROM etl.pipeline_tasks WHERE pipeline_id = ANY($1::uuid[]) ORDER BY pipeline_id, position',
      [ids],
      client,
    );
    for (const row of rows) {
      const list = byPipeline.get(row.pipeline_id) ?? [];
      list.push({ type: row.kind, name: row.name, ...row.config } as TaskDefinition);
      byPipeline.set(row.pipeline_id, list);
    }
    return byPipeline;
  }

  async function saveTasks(client: pg.ClientBase, pipelineId: string, tasks: TaskDefinition[] | null): Promise<void> {
    await q('DELETE FROM etl.pipeline_tasks WHERE pipeline_id = $1', [pipelineId], client);
    if (!tasks) return;
    const configs = tasks.map(({ type: _type, name: _name, ...config }) => JSON.stringify(config));
    await q(
      `INSERT INTO etl.pipeline_tasks (pipeline_id, position, kind, name, config)
       SELECT $1, t.position - 1, t.kind, t.name, t.config::jsonb
       FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS t(kind, name, config, position)`,
      [pipelineId, tasks.map((t) => t.type), tasks.map((t) => t.name), configs],
      client,
    );
  }

  async function withTasks(client: pg.ClientBase | pg.Pool, rows: PipelineRow[]): Promise<Pipeline[]> {
    const tasks = await loadTasks(client, rows.map((r) => r.id));
    return rows.map((row) => toPipeline(row, tasks.get(row.id) ?? null));
  }

  /** Forgets the checkpoint and every resume point: the next run reads from the beginning. */
  async function resetProgress(client: pg.ClientBase, pipelineId: string): Promise<void> {
    await q('DELETE FROM etl.etl_state WHERE pipeline_id = $1', [pipelineId], client);
    await q('UPDATE etl.pipelines SET reset_at = clock_timestamp() WHERE id = $1', [pipelineId], client);
  }

  /** The pipeline's RUNNING or PAUSED run (at most one: a partial unique index), locked. */
  async function lockActiveRun(client: pg.ClientBase, pipelineId: string): Promise<ObservedRunRow | undefined> {
    const { rows } = await q<ObservedRunRow>(
      `SELECT *, now() AS observed_at FROM etl.pipeline_runs WHERE pipeline_id = $1 AND status IN ('RUNNING', 'PAUSED') FOR UPDATE`,
      [pipelineId],
      client,
    );
    return rows[0];
  }

  async function lockRun(client: pg.ClientBase, runId: string): Promise<RunRow> {
    const { rows } = await q<RunRow>('SELECT * FROM etl.pipeline_runs WHERE id = $1 FOR UPDATE', [runId], client);
    if (!rows[0]) throw new RunStateError(`run ${runId} does not exist`);
    return rows[0];
  }

  return { pool, tx, q, lockPipeline, loadTasks, saveTasks, withTasks, resetProgress, lockActiveRun, lockRun };
}

export type StateDb = ReturnType<typeof createStateDb>;

export const json = (value: unknown) => (value === null ? null : JSON.stringify(value));
