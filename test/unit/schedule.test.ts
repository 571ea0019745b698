import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/core/errors.ts';
import { firstRun, nextRunAfter, parseSchedule, runAfterTick } from '../../lib/core/schedule.ts';

const at = (iso: string) => new Date(iso);
/** The next `count` runs of a cron expression after `from`, as ISO strings (a fake clock stepping from run to run). */
function runs(expression: string, from: string, count = 1): string[] {
  const schedule = parseSchedule(expression);
  const out: string[] = [];
  let clock = at(from);
  for (let i = 0; i < count; i++) {
    const next = nextRunAfter(schedule, clock);
    if (!next) break;
    out.push(next.toISOString().replace(':00.000Z', 'Z'));
    clock = next;
  }
  return out;
}

describe('rate expressions', () => {
  it('first run one period after the schedule is set, to the millisecond', () => {
    expect(firstRun('rate(1 minute)', at('2026-03-01T10:00:30.250Z')).toISOString()).toBe('2026-03-01T10:01:30.250Z');
    expect(firstRun('rate(5 minutes)', at('2026-03-01T10:00:00Z')).toISOString()).toBe('2026-03-01T10:05:00.000Z');
    expect(firstRun('rate(2 hours)', at('2026-03-01T23:30:00Z')).toISOString()).toBe('2026-03-02T01:30:00.000Z');
    expect(firstRun('rate(1 day)', at('2028-02-28T12:00:00Z')).toISOString()).toBe('2028-02-29T12:00:00.000Z');
    expect(firstRun('rate(3 days)', at('2026-12-30T00:00:00Z')).toISOString()).toBe('2027-01-02T00:00:00.000Z');
  });

  it('after a tick handled on time, the next run is one period after the scheduled time, not after the handling', () => {
    expect(runAfterTick('rate(10 minutes)', at('2026-03-01T10:10:00Z'), at('2026-03-01T10:10:04Z'))?.toISOString()).toBe('2026-03-01T10:20:00.000Z');
  });

  it('after a tick handled hours late (stack down), the next run is the next multiple of the period, once', () => {
    // Scheduled 10:10, handled at 13:07: the missed ticks 10:20 ... 13:00 are not replayed.
    expect(runAfterTick('rate(10 minutes)', at('2026-03-01T10:10:00Z'), at('2026-03-01T13:07:00Z'))?.toISOString()).toBe('2026-03-01T13:10:00.000Z');
    // Handled exactly on a multiple: strictly after, so that multiple is not run twice.
    expect(runAfterTick('rate(10 minutes)', at('2026-03-01T10:10:00Z'), at('2026-03-01T10:30:00Z'))?.toISOString()).toBe('2026-03-01T10:40:00.000Z');
  });

  it('a tick handled before its time (clock skew) still moves forward by one period', () => {
    expect(runAfterTick('rate(1 hour)', at('2026-03-01T10:00:00Z'), at('2026-03-01T09:59:58Z'))?.toISOString()).toBe('2026-03-01T11:00:00.000Z');
  });

  it.each([
    ['rate(1 minutes)', 'with the value 1 the unit is singular (rate(1 minute))'],
    ['rate(2 minute)', 'with a value above 1 the unit is plural (rate(2 minutes))'],
    ['rate(1 hours)', 'singular'],
    ['rate(0 minutes)', 'at least 1'],
    ['rate(-5 minutes)', 'must be rate(<positive integer>'],
    ['rate(1.5 hours)', 'must be rate(<positive integer>'],
    ['rate(5 seconds)', 'minute|minutes|hour|hours|day|days'],
    ['rate(5 weeks)', 'minute|minutes|hour|hours|day|days'],
    ['rate(5)', 'must be rate('],
    ['rate(4000 days)', 'at most 3650 days'],
    ['RATE(5 minutes)', 'must be rate(...), cron(...) or null'],
    ['every 5 minutes', 'must be rate(...), cron(...) or null'],
    ['', 'must be rate(...), cron(...) or null'],
  ])('refuses %j: a 400 naming schedule that says why', (expression, why) => {
    expect(() => parseSchedule(expression)).toThrow(ValidationError);
    expect(() => parseSchedule(expression)).toThrow(/^schedule: /);
    expect(() => parseSchedule(expression)).toThrow(why);
  });
});

describe('cron expressions: fields, ranges, steps', () => {
  it('every minute, and every 15 minutes from a step', () => {
    expect(runs('cron(* * * * ? *)', '2026-03-01T10:00:30Z', 3)).toEqual(['2026-03-01T10:01Z', '2026-03-01T10:02Z', '2026-03-01T10:03Z']);
    expect(runs('cron(0/15 * * * ? *)', '2026-03-01T10:14:59Z', 3)).toEqual(['2026-03-01T10:15Z', '2026-03-01T10:30Z', '2026-03-01T10:45Z']);
    expect(runs('cron(*/20 * * * ? *)', '2026-03-01T10:40:00Z', 2)).toEqual(['2026-03-01T11:00Z', '2026-03-01T11:20Z']);
  });

  it('a minute already reached is not matched again: the next run is strictly after', () => {
    expect(runs('cron(30 10 * * ? *)', '2026-03-01T10:30:00Z')).toEqual(['2026-03-02T10:30Z']);
    expect(runs('cron(30 10 * * ? *)', '2026-03-01T10:29:59.999Z')).toEqual(['2026-03-01T10:30Z']);
  });

  it('lists, ranges and ranges with steps in hours', () => {
    expect(runs('cron(0 8,12,18 * * ? *)', '2026-03-01T12:00:00Z', 3)).toEqual(['2026-03-01T18:00Z', '2026-03-02T08:00Z', '2026-03-02T12:00Z']);
    expect(runs('cron(5 9-17/4 * * ? *)', '2026-03-01T00:00:00Z', 4)).toEqual(['2026-03-01T09:05Z', '2026-03-01T13:05Z', '2026-03-01T17:05Z', '2026-03-02T09:05Z']);
    expect(runs('cron(0,30 23 * * ? *)', '2026-12-31T23:30:00Z', 1)).toEqual(['2027-01-01T23:00Z']);
  });

  it('weekdays by name and by number (1 = SUN)', () => {
    // 2026-03-06 is a Friday.
    expect(runs('cron(0 9 ? * MON-FRI *)', '2026-03-06T09:00:00Z', 3)).toEqual(['2026-03-09T09:00Z', '2026-03-10T09:00Z', '2026-03-11T09:00Z']);
    expect(runs('cron(0 9 ? * 2-6 *)', '2026-03-06T09:00:00Z', 1)).toEqual(['2026-03-09T09:00Z']);
    expect(runs('cron(0 0 ? * SUN,sat *)', '2026-03-06T12:00:00Z', 3)).toEqual(['2026-03-07T00:00Z', '2026-03-08T00:00Z', '2026-03-14T00:00Z']);
    expect(runs('cron(0 0 ? * 1 *)', '2026-03-06T12:00:00Z', 1)).toEqual(['2026-03-08T00:00Z']);
  });

  it('months by name and by number, and years', () => {
    expect(runs('cron(0 0 1 JAN,JUL ? *)', '2026-03-01T00:00:00Z', 3)).toEqual(['2026-07-01T00:00Z', '2027-01-01T00:00Z', '2027-07-01T00:00Z']);
    expect(runs('cron(0 0 1 */3 ? *)', '2026-02-01T00:00:00Z', 2)).toEqual(['2026-04-01T00:00Z', '2026-07-01T00:00Z']);
    expect(runs('cron(0 12 25 12 ? 2027-2028)', '2026-01-01T00:00:00Z', 3)).toEqual(['2027-12-25T12:00Z', '2028-12-25T12:00Z']);
  });
});

describe('cron expressions: month ends and leap years', () => {
  it('day 31 skips the months that have no 31st', () => {
    expect(runs('cron(0 0 31 * ? *)', '2026-01-31T00:00:00Z', 3)).toEqual(['2026-03-31T00:00Z', '2026-05-31T00:00Z', '2026-07-31T00:00Z']);
  });

  it('February 29th runs only in leap years (2100 is not one, 2000-style rule)', () => {
    expect(runs('cron(0 0 29 2 ? *)', '2026-01-01T00:00:00Z', 2)).toEqual(['2028-02-29T00:00Z', '2032-02-29T00:00Z']);
    expect(runs('cron(0 0 29 2 ? *)', '2096-03-01T00:00:00Z', 1)).toEqual(['2104-02-29T00:00Z']);
  });

  it('L is the last day of each month, leap February included', () => {
    expect(runs('cron(0 23 L * ? *)', '2028-01-31T23:00:00Z', 4)).toEqual(['2028-02-29T23:00Z', '2028-03-31T23:00Z', '2028-04-30T23:00Z', '2028-05-31T23:00Z']);
    expect(runs('cron(0 23 L 2 ? *)', '2026-01-01T00:00:00Z', 1)).toEqual(['2026-02-28T23:00Z']);
  });

  it('nW is the weekday nearest day n, never leaving the month', () => {
    // 2026-08-15 is a Saturday -> Friday 14th; 2026-02-15 is a Sunday -> Monday 16th.
    expect(runs('cron(0 6 15W * ? 2026)', '2026-08-01T00:00:00Z', 1)).toEqual(['2026-08-14T06:00Z']);
    expect(runs('cron(0 6 15W * ? 2026)', '2026-02-01T00:00:00Z', 1)).toEqual(['2026-02-16T06:00Z']);
    // 2026-08-01 is a Saturday: the nearest weekday in August is Monday 3rd, not Friday July 31st.
    expect(runs('cron(0 6 1W 8 ? *)', '2026-07-01T00:00:00Z', 1)).toEqual(['2026-08-03T06:00Z']);
    // 2026-05-31 is a Sunday: the nearest weekday in May is Friday 29th.
    expect(runs('cron(0 6 31W 5 ? *)', '2026-05-01T00:00:00Z', 1)).toEqual(['2026-05-29T06:00Z']);
    // A month without a 31st has no 31W.
    expect(runs('cron(0 6 31W 4,5 ? 2026)', '2026-04-01T00:00:00Z', 1)).toEqual(['2026-05-29T06:00Z']);
  });

  it('dL is the last weekday d of the month; d#k the k-th, skipping months without a 5th', () => {
    // Last Friday: 2026-03-27, 2026-04-24.
    expect(runs('cron(0 18 ? * 6L *)', '2026-03-01T00:00:00Z', 2)).toEqual(['2026-03-27T18:00Z', '2026-04-24T18:00Z']);
    expect(runs('cron(0 18 ? * FRIL *)', '2026-03-01T00:00:00Z', 1)).toEqual(['2026-03-27T18:00Z']);
    // Second Tuesday: 2026-03-10, 2026-04-14.
    expect(runs('cron(0 10 ? * 3#2 *)', '2026-03-01T00:00:00Z', 2)).toEqual(['2026-03-10T10:00Z', '2026-04-14T10:00Z']);
    // Fifth Monday: March 2026 has one (30th); April and May 2026 do not, June 2026 does (29th).
    expect(runs('cron(0 10 ? * MON#5 *)', '2026-03-01T00:00:00Z', 2)).toEqual(['2026-03-30T10:00Z', '2026-06-29T10:00Z']);
    // L alone in day-of-week: Saturday, the last day of the week.
    expect(runs('cron(0 0 ? * L *)', '2026-03-06T00:00:00Z', 1)).toEqual(['2026-03-07T00:00Z']);
  });

  it('answers null, and firstRun refuses, an expression that never matches again', () => {
    expect(nextRunAfter(parseSchedule('cron(0 0 30 2 ? *)'), at('2026-01-01T00:00:00Z'))).toBeNull();
    expect(nextRunAfter(parseSchedule('cron(0 0 1 1 ? 2020)'), at('2026-01-01T00:00:00Z'))).toBeNull();
    expect(() => firstRun('cron(0 0 30 2 ? *)', at('2026-01-01T00:00:00Z'))).toThrow('schedule: "cron(0 0 30 2 ? *)" never matches after 2026-01-01T00:00:00.000Z');
  });
});

describe('cron expressions that are refused, each saying why', () => {
  it.each([
    ['cron(0 12 * * *)', 'needs 6 fields'],
    ['cron(0 12 * * ? * *)', 'needs 6 fields'],
    ['cron(0 12 * * * *)', 'exactly one of day-of-month and day-of-week must be "?"'],
    ['cron(0 12 ? * ? *)', 'exactly one of day-of-month and day-of-week must be "?"'],
    ['cron(60 12 * * ? *)', 'minutes: 60 is outside 0-59'],
    ['cron(0 24 * * ? *)', 'hours: 24 is outside 0-23'],
    ['cron(0 0 0 * ? *)', 'day-of-month: 0 is outside 1-31'],
    ['cron(0 0 1 13 ? *)', 'month: 13 is outside 1-12'],
    ['cron(0 0 ? * 8 *)', 'day-of-week: 8 is outside 1-7'],
    ['cron(0 0 ? * 0 *)', 'day-of-week: 0 is outside 1-7'],
    ['cron(0 0 1 * ? 1969)', 'year: 1969 is outside 1970-2199'],
    ['cron(0 0 1 FOO ? *)', 'month: "FOO" is not a number or a name (JAN-DEC)'],
    ['cron(0 22-2 * * ? *)', 'hours: the range "22-2" runs backwards'],
    ['cron(0 0 ? * FRI-MON *)', 'day-of-week: the range "FRI-MON" runs backwards'],
    ['cron(0/0 * * * ? *)', 'the step in "0/0" must be a positive integer'],
    ['cron(1,,2 * * * ? *)', 'empty item'],
    ['cron(0 0 LW * ? *)', 'day-of-month: "LW" is not supported'],
    ['cron(0 0 L-2 * ? *)', 'day-of-month: "L-2" is not supported'],
    ['cron(0 0 1,L * ? *)', 'not supported'],
    ['cron(0 0 ? * 2#6 *)', 'the occurrence after # must be 1-5'],
    ['cron(0 0 ? * 2L,3 *)', 'day-of-week: "2L,3" is not supported'],
  ])('refuses %j', (expression, why) => {
    expect(() => parseSchedule(expression)).toThrow(ValidationError);
    expect(() => parseSchedule(expression)).toThrow(`schedule: "${expression}": `);
    expect(() => parseSchedule(expression)).toThrow(why);
  });
});
