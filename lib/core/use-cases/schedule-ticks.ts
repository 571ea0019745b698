/**
 * Schedule ticks. A tick requests a run exactly as POST /pipelines/{id}/run does, with one
 * difference: it never resumes a PAUSED run (a pause is a person's decision; only a person's run
 * request resumes it). While a run is active or paused the tick starts nothing, and that is
 * recorded on the pipeline as `skipped_active`, never as a failed run.
 *
 * Two ways in: the local stack's scheduler claims due ticks itself (`runDue`, over next_run_at);
 * in the cloud EventBridge Scheduler starts an execution whose StartRun reports the outcome
 * (`recordExecutionTick`, called from start-run.ts).
 */
import { ConflictError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { BUSY_PIPELINE_STATUSES } from '../pipeline.ts';
import { runAfterTick, type ScheduleTick } from '../schedule.ts';
import type { Clock, DueTick, ScheduleStore } from '../schedule-ports.ts';
import type { RequestRuns } from './request-runs.ts';

export interface ScheduleTicksDeps {
  schedules: ScheduleStore;
  runs: Pick<RequestRuns, 'requestRun'>;
  clock: Clock;
  logger: Logger;
}

/** A tick finds the pipeline busy in these statuses: it starts nothing. */
export const BUSY_STATUSES = BUSY_PIPELINE_STATUSES;

/** The next run after a tick, or null when the expression no longer parses or never matches again. */
function nextAfter(schedule: string, scheduledAt: Date, now: Date): Date | null {
  try {
    return runAfterTick(schedule, scheduledAt, now);
  } catch {
    // Stored schedules were validated; one edited by hand into nonsense stops instead of spinning.
    return null;
  }
}

export function createScheduleTicks({ schedules, runs, clock, logger }: ScheduleTicksDeps) {
  async function fire(due: DueTick): Promise<ScheduleTick> {
    const at = due.nextRunAt.toISOString();
    try {
      const accepted = await runs.requestRun(due.pipelineId, { resume: false });
      return { at, outcome: 'started', run_id: accepted.run_id, message: accepted.taken_over ? 'took over a stale run' : null };
    } catch (error) {
      // ConflictError: a run is active or paused (or became so between the claim and the request).
      if (error instanceof ConflictError) return { at, outcome: 'skipped_active', run_id: null, message: error.message };
      return { at, outcome: 'failed', run_id: null, message: (error as Error).message };
    }
  }

  return {
    /**
     * Runs every tick due now, each at most once across all schedulers on this database: the tick
     * is claimed (next_run_at moved past now) before anything starts, so a scheduler that loses the
     * claim, or restarts after it, does not start it again, and missed ticks collapse into one.
     */
    async runDue(limit = 100): Promise<{ pipelineId: string; tick: ScheduleTick }[]> {
      const now = clock();
      const done: { pipelineId: string; tick: ScheduleTick }[] = [];
      for (const due of await schedules.due(now, limit)) {
        if (!(await schedules.claimTick(due, nextAfter(due.schedule, due.nextRunAt, now)))) continue;
        const tick = await fire(due);
        await schedules.recordTick(due.pipelineId, tick);
        const log = tick.outcome === 'failed' ? logger.error.bind(logger) : logger.info.bind(logger);
        log('schedule tick', { pipeline_id: due.pipelineId, schedule: due.schedule, scheduled_at: tick.at, outcome: tick.outcome, run_id: tick.run_id, reason: tick.message });
        done.push({ pipelineId: due.pipelineId, tick });
      }
      return done;
    },

    /**
     * Records the outcome of a tick that EventBridge Scheduler started as an execution, and moves
     * next_run_at (shown by GET) past it. `schedule` is the expression that fired: a tick of a
     * schedule changed since is not recorded over the new one's.
     */
    async recordExecutionTick(pipelineId: string, schedule: string, scheduledAt: string, outcome: Omit<ScheduleTick, 'at'>): Promise<void> {
      const at = new Date(scheduledAt);
      const when = Number.isNaN(at.getTime()) ? clock() : at;
      await schedules.recordTick(pipelineId, { ...outcome, at: when.toISOString() }, { schedule, nextRunAt: nextAfter(schedule, when, clock()) });
    },
  };
}

export type ScheduleTicks = ReturnType<typeof createScheduleTicks>;
