/**
 * The one run-creation path, inside a transaction that holds the pipeline row lock: POST /run and
 * a schedule's tick (requestRun) and an execution started with only `pipeline_id` (claimRun) all
 * come here, so a new run starts from the same cursor whoever asked for it. This module loads the
 * facts under the locks, asks the rules of lib/core/run-lifecycle.ts, and writes what they decide.
 */
import type pg from 'pg';
import { ConflictError } from '../../core/errors.ts';
import { decideRunRequest, requestOutcome, resumePoint, type Instant } from '../../core/run-lifecycle.ts';
import type { RunRequestOptions } from '../../core/ports.ts';
import { activeRunFacts, toRun, type PipelineRow, type RunRow } from './state-rows.ts';
import type { StateDb } from './state-db.ts';

/** A timestamp as an exact Instant (microseconds; int8 arrives as text). */
const micros = (column: string) => `(extract(epoch FROM ${column}) * 1000000)::int8`;
const instant = (value: string | null): Instant | null => (value === null ? null : Number(value));

interface ResumeFactsRow {
  reset_at: string | null;
  last_succeeded_at: string | null;
  failed_id: string | null;
  failed_cursor: string[] | null;
  failed_horizon: string | null;
  failed_requested_at: string | null;
}

export interface LockedRequest {
  run: RunRow;
  resumed: boolean;
  takenOver: boolean;
}

export function createRunCreation({ q, lockActiveRun }: Pick<StateDb, 'q' | 'lockActiveRun'>) {
  /** The facts of the inheritance rule: the last reset, the last success, the latest failed run with a cursor. */
  async function loadResumeFacts(client: pg.ClientBase, pipelineId: string) {
    const { rows } = await q<ResumeFactsRow>(
      `SELECT ${micros('p.reset_at')} AS reset_at,
         (SELECT ${micros('max(requested_at)')} FROM etl.pipeline_runs WHERE pipeline_id = p.id AND status = 'SUCCEEDED') AS last_succeeded_at,
         f.id AS failed_id, f.cursor AS failed_cursor, f.horizon AS failed_horizon, ${micros('f.requested_at')} AS failed_requested_at
       FROM etl.pipelines p
       LEFT JOIN LATERAL (
         SELECT id, cursor, horizon, requested_at FROM etl.pipeline_runs
         WHERE pipeline_id = p.id AND status = 'FAILED' AND cursor IS NOT NULL ORDER BY requested_at DESC LIMIT 1) f ON true
       WHERE p.id = $1`,
      [pipelineId],
      client,
    );
    const row = rows[0]!;
    return {
      resetAt: instant(row.reset_at),
      lastSucceededAt: instant(row.last_succeeded_at),
      latestFailed: row.failed_id ? { id: row.failed_id, cursor: row.failed_cursor!, horizon: row.failed_horizon, requestedAt: instant(row.failed_requested_at)! } : null,
    };
  }

  async function createRun(client: pg.ClientBase, pipeline: PipelineRow): Promise<RunRow> {
    // A failed run's committed progress is not lost: its successor starts from its cursor.
    const from = resumePoint({ mode: pipeline.mode, ...(await loadResumeFacts(client, pipeline.id)) });
    const { rows } = await q<RunRow>(
      `INSERT INTO etl.pipeline_runs (pipeline_id, status, mode, cursor, horizon, resumed_from) VALUES ($1, 'RUNNING', $2, $3::jsonb, $4, $5) RETURNING *`,
      [pipeline.id, pipeline.mode, from ? JSON.stringify(from.cursor) : null, from?.horizon ?? null, from?.resumedFrom ?? null],
      client,
    );
    return rows[0]!;
  }

  /**
   * Moves the locked pipeline to RUN_REQUESTED with a new, resumed or taken-over run, owned by
   * the execution `options.nameExecution` names; ConflictError when the rules refuse.
   */
  async function requestLocked(client: pg.ClientBase, pipeline: PipelineRow, options: RunRequestOptions): Promise<LockedRequest> {
    const active = await lockActiveRun(client, pipeline.id);
    const decision = decideRunRequest({
      pipelineId: pipeline.id,
      pipelineStatus: pipeline.status,
      activeRun: active ? activeRunFacts(active) : null,
      resume: options.resume !== false,
      takeOver: options.takeOver ?? null,
    });
    if (decision.action === 'refuse') throw new ConflictError(decision.message);
    const run = decision.action === 'create' ? await createRun(client, pipeline) : active!;
    const { resumed, takenOver } = requestOutcome(decision);
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
    await q(`UPDATE etl.pipelines SET status = 'RUN_REQUESTED', updated_at = now() WHERE id = $1`, [pipeline.id], client);
    return { run: rows[0]!, resumed, takenOver };
  }

  return { requestLocked };
}
