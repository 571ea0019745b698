/**
 * The ports of schedules (ports.ts holds the others): the schedule columns of the state database,
 * and the cloud's timer. See schedule.ts for the rule that computes next runs.
 */
import type { ScheduleTick } from './schedule.ts';

/** A pipeline whose schedule is due: its tick is claimed by moving `next_run_at` from this value. */
export interface DueTick {
  pipelineId: string;
  schedule: string;
  /** The tick's scheduled time: the next_run_at read. */
  nextRunAt: Date;
}

export interface ScheduledPipeline {
  id: string;
  name: string;
  schedule: string;
  next_run_at: string | null;
}

/** The schedule columns of etl.pipelines (migrations/0004_schedules.sql). */
export interface ScheduleStore {
  /** Sets (or with null, clears) the schedule and when it is next due; NotFoundError for an unknown pipeline. */
  setSchedule(pipelineId: string, schedule: string | null, nextRunAt: Date | null): Promise<void>;
  /** The pipelines due at `now` (next_run_at <= now), oldest first, at most `limit`. */
  due(now: Date, limit: number): Promise<DueTick[]>;
  /**
   * Claims a due tick: moves next_run_at from `tick.nextRunAt` to `next` in one conditional
   * UPDATE (unchanged schedule, unchanged next_run_at). False when another scheduler claimed it
   * first or the schedule changed meanwhile: that caller must start nothing.
   */
  claimTick(tick: DueTick, next: Date | null): Promise<boolean>;
  /**
   * Records what a tick did; with `next` (cloud ticks, whose claim is EventBridge's) also moves
   * next_run_at, unless the schedule changed since the tick fired (`schedule` is the one that fired).
   */
  recordTick(pipelineId: string, tick: ScheduleTick, next?: { schedule: string; nextRunAt: Date | null }): Promise<void>;
  /** Every pipeline with a schedule, by name (npm start lists them). */
  listScheduled(): Promise<ScheduledPipeline[]>;
}

/**
 * The cloud's timer: one EventBridge Scheduler schedule per pipeline that starts an execution with
 * `{"pipeline_id", "scheduled_at"}`. Locally there is none (the local stack's scheduler reads
 * next_run_at instead). UpstreamUnavailableError when the service refuses or does not answer.
 */
export interface PipelineScheduler {
  /** Creates or replaces the pipeline's schedule; `startAt` is a rate's first run (EventBridge's StartDate). */
  put(pipelineId: string, schedule: string, startAt: Date | null): Promise<void>;
  /** Deletes the pipeline's schedule; deleting one that does not exist is not an error. */
  remove(pipelineId: string): Promise<void>;
}

/** Where "now" comes from: tests pass a fake clock. */
export type Clock = () => Date;
