/**
 * The schedule columns of etl.pipelines (migrations/0004_schedules.sql). A tick is claimed by a
 * conditional UPDATE of next_run_at from the value read, so of two schedulers reading the same
 * due row only one moves it and starts a run; the other's UPDATE matches nothing.
 */
import type pg from 'pg';
import { NotFoundError } from '../../core/errors.ts';
import type { ScheduleTick } from '../../core/schedule.ts';
import type { DueTick, ScheduleStore, ScheduledPipeline } from '../../core/schedule-ports.ts';
import { classifyPgError } from './classify.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createPgScheduleStore(pool: pg.Pool): ScheduleStore {
  const q = async <R extends pg.QueryResultRow>(sql: string, params: unknown[] = []) =>
    await pool.query<R>(sql, params).catch((error: unknown) => {
      throw classifyPgError(error, 'state');
    });

  return {
    async setSchedule(pipelineId, schedule, nextRunAt) {
      if (!UUID.test(pipelineId)) throw new NotFoundError(`pipeline ${pipelineId} not found`);
      // A new expression starts a new history: the last tick of the old one would mislead.
      const { rowCount } = await q(
        `UPDATE etl.pipelines SET schedule = $2, next_run_at = $3,
           last_tick_at = CASE WHEN schedule IS DISTINCT FROM $2 THEN NULL ELSE last_tick_at END,
           last_tick_outcome = CASE WHEN schedule IS DISTINCT FROM $2 THEN NULL ELSE last_tick_outcome END,
           last_tick_run_id = CASE WHEN schedule IS DISTINCT FROM $2 THEN NULL ELSE last_tick_run_id END,
           last_tick_message = CASE WHEN schedule IS DISTINCT FROM $2 THEN NULL ELSE last_tick_message END,
           updated_at = now()
         WHERE id = $1`,
        [pipelineId, schedule, nextRunAt],
      );
      if (rowCount !== 1) throw new NotFoundError(`pipeline ${pipelineId} not found`);
    },

    async due(now, limit) {
      const { rows } = await q<{ id: string; schedule: string; next_run_at: Date }>(
        `SELECT id, schedule, next_run_at FROM etl.pipelines WHERE next_run_at <= $1 ORDER BY next_run_at, id LIMIT $2`,
        [now, limit],
      );
      return rows.map((row) => ({ pipelineId: row.id, schedule: row.schedule, nextRunAt: row.next_run_at }));
    },

    async claimTick(tick: DueTick, next) {
      const { rowCount } = await q(// Within a millisecond: the value read went through a JavaScript Date, which drops microseconds.
        `UPDATE etl.pipelines SET next_run_at = $4
         WHERE id = $1 AND schedule = $2 AND abs(extract(epoch FROM next_run_at - $3::timestamptz)) < 0.001`, [
        tick.pipelineId,
        tick.schedule,
        tick.nextRunAt,
        next,
      ]);
      return rowCount === 1;
    },

    async recordTick(pipelineId: string, tick: ScheduleTick, next) {
      // The tick is recorded only while the schedule that fired is still the pipeline's.
      await q(
        `UPDATE etl.pipelines SET last_tick_at = $2, last_tick_outcome = $3, last_tick_run_id = $4, last_tick_message = $5,
           next_run_at = CASE WHEN $6::boolean THEN $7 ELSE next_run_at END
         WHERE id = $1 AND ($8::text IS NULL OR schedule = $8)`,
        [pipelineId, tick.at, tick.outcome, tick.run_id, tick.message?.slice(0, 500) ?? null, next !== undefined, next?.nextRunAt ?? null, next?.schedule ?? null],
      );
    },

    async listScheduled(): Promise<ScheduledPipeline[]> {
      const { rows } = await q<{ id: string; name: string; schedule: string; next_run_at: Date | null }>(
        'SELECT id, name, schedule, next_run_at FROM etl.pipelines WHERE schedule IS NOT NULL ORDER BY name',
      );
      return rows.map((row) => ({ ...row, next_run_at: row.next_run_at?.toISOString() ?? null }));
    },
  };
}
