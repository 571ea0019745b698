/**
 * A pipeline's schedule, in EventBridge Scheduler syntax (UTC): `rate(N unit)` or `cron(...)`
 * (cron.ts). Pure: the next run is computed from instants the caller passes, so the local
 * scheduler, the HTTP use-cases and the tests (with a fake clock) share one rule.
 *
 * Rates count from an anchor: the time the schedule was set, then each tick's scheduled time.
 * The first run is one period after the schedule is set (the EventBridge schedule gets that time
 * as its StartDate, so both agree), and a tick that comes late (the local stack was down) is
 * followed by the next multiple of the period after it, never by a burst of missed ticks.
 */
import { CronSyntaxError, nextCronRun, parseCronFields, type CronSchedule } from './cron.ts';
import { ValidationError } from './errors.ts';

export type RateUnit = 'minute' | 'hour' | 'day';

export interface RateSchedule {
  kind: 'rate';
  expression: string;
  value: number;
  unit: RateUnit;
  periodMs: number;
}

export type Schedule = RateSchedule | CronSchedule;

/** What the last tick of a schedule did (shown by GET /pipelines/{id} as `last_tick`). */
export type TickOutcome = 'started' | 'skipped_active' | 'failed';

export interface ScheduleTick {
  /** The tick's scheduled time (ISO, UTC). */
  at: string;
  outcome: TickOutcome;
  /** The run started (or taken over) by the tick. */
  run_id: string | null;
  /** Why nothing was started. */
  message: string | null;
}

const UNIT_MS: Record<RateUnit, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
/** EventBridge accepts larger values; beyond ten years a schedule is a mistake more often than not. */
const MAX_RATE_MS = 3_650 * UNIT_MS.day;
export const MAX_SCHEDULE_CHARS = 256;

const fail = (why: string): never => {
  throw new ValidationError(`schedule: ${why}`, 'schedule');
};

function parseRate(expression: string, body: string): RateSchedule {
  const match = /^\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*$/.exec(body);
  if (!match) return fail(`"${expression}" must be rate(<positive integer> minute|minutes|hour|hours|day|days)`);
  const value = Number(match[1]);
  const word = match[2]!;
  const unit = word.replace(/s$/, '') as RateUnit;
  if (value < 1) return fail(`"${expression}": the rate must be at least 1`);
  // EventBridge's rule: singular exactly when the value is 1.
  if (value === 1 && word !== unit) fail(`"${expression}": with the value 1 the unit is singular (rate(1 ${unit}))`);
  if (value > 1 && word === unit) fail(`"${expression}": with a value above 1 the unit is plural (rate(${value} ${unit}s))`);
  const periodMs = value * UNIT_MS[unit];
  if (periodMs > MAX_RATE_MS) fail(`"${expression}": the period must be at most 3650 days`);
  return { kind: 'rate', expression, value, unit, periodMs };
}

/** Parses an expression; ValidationError naming `schedule` and saying why otherwise. */
export function parseSchedule(expression: string): Schedule {
  if (expression.length > MAX_SCHEDULE_CHARS) fail(`is too long (max ${MAX_SCHEDULE_CHARS} characters)`);
  const match = /^(rate|cron)\((.*)\)$/.exec(expression);
  if (!match) return fail(`"${expression}" must be rate(...), cron(...) or null (EventBridge Scheduler syntax, UTC)`);
  if (match[1] === 'rate') return parseRate(expression, match[2]!);
  try {
    return parseCronFields(expression, match[2]!);
  } catch (error) {
    if (error instanceof CronSyntaxError) return fail(`"${expression}": ${error.message}`);
    throw error;
  }
}

/**
 * The first run strictly after `after`. Rates: the first `anchor + k * period` (k >= 1) after it;
 * cron: the first matching minute after it. Null when the expression never matches again.
 */
export function nextRunAfter(schedule: Schedule, after: Date, anchor: Date = after): Date | null {
  if (schedule.kind === 'cron') return nextCronRun(schedule, after);
  const periods = Math.max(1, Math.floor((after.getTime() - anchor.getTime()) / schedule.periodMs) + 1);
  return new Date(anchor.getTime() + periods * schedule.periodMs);
}

/**
 * The first run of a schedule set at `now`; ValidationError when a cron expression never matches
 * again (e.g. February 30th, or only past years), because such a schedule would silently do nothing.
 */
export function firstRun(expression: string, now: Date): Date {
  const next = nextRunAfter(parseSchedule(expression), now);
  return next ?? fail(`"${expression}" never matches after ${now.toISOString()}`);
}

/**
 * The run after a tick scheduled at `scheduledAt` that is handled at `now`: later than both,
 * so a tick handled late is not followed by the ticks it missed.
 */
export function runAfterTick(expression: string, scheduledAt: Date, now: Date): Date | null {
  const after = now > scheduledAt ? now : scheduledAt;
  return nextRunAfter(parseSchedule(expression), after, scheduledAt);
}
