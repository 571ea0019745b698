/**
 * The state store over the `etl` schema. Every status transition is one conditional UPDATE (or a
 * short transaction holding the pipeline row lock), so concurrent requests and executions cannot
 * both win; the partial unique index on pipeline_runs is the database's own backstop.
 */
import type pg from 'pg';
import { ConflictError, NotFoundError, RunStateError } from '../../core/errors.ts';
import type { Pipeline, PipelineDefinition, PipelineStatus, RunStatus, TaskDefinition } from '../../core/pipeline.ts';
import type { PageRequest } from '../../core/paging.ts';
import type { ActiveRun, BatchProgress, CheckpointRecord, ClaimRequest, ClaimedRun, PipelineWithLastRun, RunRequestOptions, RunRequestResult, StateStore, TransactionHandle } from '../../core/ports.ts';
import { checkout } from './checkout.ts';
import { classifyPgError } from './classify.ts';
import { IDLE_SECONDS, refusedAdvance, stillStale, type ActiveRunRow } from './run-ownership.ts';
import { batchSizeColumn, toPipeline, toRun, type PipelineRow, type RunRow } from './state-rows.ts';

const ACTIVE_PIPELINE: PipelineStatus[] = ['RUN_REQUESTED', 'RUNNING', 'PAUSE_REQUESTED'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createPgStateStore(pool: pg.Pool): StateStore {
  async function tx<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await checkout(pool, 'state');
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw classifyPgError(error, 'state');
    } finally {
      client.release();
    }
  }

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
  async function lockActiveRun(client: pg.ClientBase, pipelineId: string): Promise<ActiveRunRow | undefined> {
    const { rows } = await q<ActiveRunRow>(
      `SELECT *, ${IDLE_SECONDS} AS idle_seconds FROM etl.pipeline_runs WHERE pipeline_id = $1 AND status IN ('RUNNING', 'PAUSED') FOR UPDATE`,
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

const json = (value: unknown) => (value === null ? null : JSON.stringify(value));
