/**
 * EventBridge cron expressions, `cron(minutes hours day-of-month month day-of-week year)`, in UTC:
 * parsing and the next matching minute. Pure (no clock, no I/O): callers pass the instants.
 *
 * Supported, as EventBridge documents them: `*`, `,`, `-`, `/` in every field; `?` in exactly one
 * of day-of-month and day-of-week; `L` (last day of the month) and `<n>W` (the weekday nearest day
 * n, within the month) in day-of-month; `<d>L` (the last weekday d of the month), `<d>#<k>` (the
 * k-th weekday d) and `L` alone (Saturday, the last day of the week, as in Quartz, whose syntax
 * EventBridge follows) in day-of-week; month names JAN-DEC and day names SUN-SAT (1 = SUN).
 * Refused with a message, because their meaning is not documented by EventBridge and a guess could
 * disagree with it: ranges that wrap around (`FRI-MON`), `LW`, `L-<n>`, and `L`, `W`, `#` inside a list.
 */

export type DayOfMonthRule =
  | { kind: 'any' }
  | { kind: 'days'; days: ReadonlySet<number> }
  | { kind: 'last' }
  | { kind: 'nearestWeekday'; day: number };

export type DayOfWeekRule =
  | { kind: 'any' }
  | { kind: 'days'; days: ReadonlySet<number> }
  | { kind: 'lastOfMonth'; day: number }
  | { kind: 'nth'; day: number; nth: number };

export interface CronSchedule {
  kind: 'cron';
  expression: string;
  minutes: readonly number[];
  hours: readonly number[];
  dayOfMonth: DayOfMonthRule;
  months: ReadonlySet<number>;
  dayOfWeek: DayOfWeekRule;
  years: ReadonlySet<number>;
}

/** A refusal of one cron expression; schedule.ts turns it into a ValidationError naming `schedule`. */
export class CronSyntaxError extends Error {
  override readonly name = 'CronSyntaxError';
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
export const MIN_YEAR = 1970;
export const MAX_YEAR = 2199;

interface FieldSpec {
  label: string;
  min: number;
  max: number;
  names?: string[];
}

const FIELDS = {
  minutes: { label: 'minutes', min: 0, max: 59 },
  hours: { label: 'hours', min: 0, max: 23 },
  dayOfMonth: { label: 'day-of-month', min: 1, max: 31 },
  month: { label: 'month', min: 1, max: 12, names: MONTHS },
  dayOfWeek: { label: 'day-of-week', min: 1, max: 7, names: DAYS },
  year: { label: 'year', min: MIN_YEAR, max: MAX_YEAR },
} satisfies Record<string, FieldSpec>;

function value(text: string, spec: FieldSpec): number {
  const named = spec.names?.indexOf(text.toUpperCase()) ?? -1;
  if (named >= 0) return named + 1;
  if (!/^\d{1,4}$/.test(text)) throw new CronSyntaxError(`${spec.label}: "${text}" is not a number${spec.names ? ` or a name (${spec.names[0]}-${spec.names.at(-1)})` : ''}`);
  const n = Number(text);
  if (n < spec.min || n > spec.max) throw new CronSyntaxError(`${spec.label}: ${n} is outside ${spec.min}-${spec.max}`);
  return n;
}

/** `*`, `a`, `a-b`, `*\/s`, `a/s`, `a-b/s`, and comma lists of them. */
function valueList(text: string, spec: FieldSpec): Set<number> {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    if (part === '') throw new CronSyntaxError(`${spec.label}: empty item in "${text}"`);
    const [range, stepText, extra] = part.split('/');
    if (extra !== undefined) throw new CronSyntaxError(`${spec.label}: "${part}" has more than one "/"`);
    let from: number;
    let to: number;
    if (range === '*') [from, to] = [spec.min, spec.max];
    else if (range!.includes('-')) {
      const [a, b, more] = range!.split('-');
      if (more !== undefined || !a || !b) throw new CronSyntaxError(`${spec.label}: "${part}" is not a range like 1-5`);
      [from, to] = [value(a, spec), value(b, spec)];
      if (from > to) throw new CronSyntaxError(`${spec.label}: the range "${range}" runs backwards (ranges that wrap around are not supported; list both parts, e.g. "${a}-${spec.names?.at(-1) ?? spec.max},${spec.names?.[0] ?? spec.min}-${b}")`);
    } else {
      from = value(range!, spec);
      to = stepText === undefined ? from : spec.max;
    }
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!/^\d{1,4}$/.test(stepText ?? '1') || step < 1) throw new CronSyntaxError(`${spec.label}: the step in "${part}" must be a positive integer`);
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

function dayOfMonthRule(text: string): DayOfMonthRule {
  if (text === '?') return { kind: 'any' };
  if (text === 'L') return { kind: 'last' };
  const weekday = /^(\d{1,2})W$/.exec(text);
  if (weekday) return { kind: 'nearestWeekday', day: value(weekday[1]!, FIELDS.dayOfMonth) };
  if (/[LW]/i.test(text)) throw new CronSyntaxError(`day-of-month: "${text}" is not supported (use L alone, or <day>W alone)`);
  return { kind: 'days', days: valueList(text, FIELDS.dayOfMonth) };
}

function dayOfWeekRule(text: string): DayOfWeekRule {
  if (text === '?') return { kind: 'any' };
  if (text.toUpperCase() === 'L') return { kind: 'days', days: new Set([7]) };
  const last = /^(\w{1,3})L$/i.exec(text);
  if (last) return { kind: 'lastOfMonth', day: value(last[1]!, FIELDS.dayOfWeek) };
  const nth = /^(\w{1,3})#(\d+)$/.exec(text);
  if (nth) {
    const k = Number(nth[2]);
    if (k < 1 || k > 5) throw new CronSyntaxError(`day-of-week: in "${text}" the occurrence after # must be 1-5`);
    return { kind: 'nth', day: value(nth[1]!, FIELDS.dayOfWeek), nth: k };
  }
  if (/[L#]/i.test(text.replace(/[A-Z]{3}/gi, (name) => (DAYS.includes(name.toUpperCase()) ? 'x' : name)))) {
    throw new CronSyntaxError(`day-of-week: "${text}" is not supported (use <day>L or <day>#<n> alone)`);
  }
  return { kind: 'days', days: valueList(text, FIELDS.dayOfWeek) };
}

/** Parses the six fields between `cron(` and `)`; CronSyntaxError says which field and why. */
export function parseCronFields(expression: string, fieldsText: string): CronSchedule {
  const fields = fieldsText.trim().split(/\s+/);
  if (fields.length !== 6) {
    throw new CronSyntaxError(`needs 6 fields (minutes hours day-of-month month day-of-week year), got ${fields.length}`);
  }
  const [minutes, hours, dom, month, dow, year] = fields as [string, string, string, string, string, string];
  if ((dom === '?') === (dow === '?')) {
    throw new CronSyntaxError('exactly one of day-of-month and day-of-week must be "?" (EventBridge cannot combine them)');
  }
  const sorted = (values: Set<number>) => [...values].sort((a, b) => a - b);
  return {
    kind: 'cron',
    expression,
    minutes: sorted(valueList(minutes, FIELDS.minutes)),
    hours: sorted(valueList(hours, FIELDS.hours)),
    dayOfMonth: dayOfMonthRule(dom),
    months: valueList(month, FIELDS.month),
    dayOfWeek: dayOfWeekRule(dow),
    years: valueList(year, FIELDS.year),
  };
}

const daysIn = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();
/** 1 = Sunday ... 7 = Saturday, as in EventBridge. */
const weekdayOf = (year: number, month: number, day: number) => new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1;

/** The weekday (Mon-Fri) nearest `day`, never crossing into another month; null when `day` does not exist. */
function nearestWeekday(year: number, month: number, day: number): number | null {
  const last = daysIn(year, month);
  if (day > last) return null;
  const weekday = weekdayOf(year, month, day);
  if (weekday === 7) return day === 1 ? 3 : day - 1; // Saturday: Friday before, or Monday the 3rd
  if (weekday === 1) return day === last ? day - 2 : day + 1; // Sunday: Monday after, or Friday before
  return day;
}

function dayMatches(cron: CronSchedule, year: number, month: number, day: number): boolean {
  const dom = cron.dayOfMonth;
  switch (dom.kind) {
    case 'days':
      if (!dom.days.has(day)) return false;
      break;
    case 'last':
      if (day !== daysIn(year, month)) return false;
      break;
    case 'nearestWeekday':
      if (day !== nearestWeekday(year, month, dom.day)) return false;
      break;
    case 'any':
      break;
  }
  const dow = cron.dayOfWeek;
  switch (dow.kind) {
    case 'days':
      return dow.days.has(weekdayOf(year, month, day));
    case 'lastOfMonth':
      return weekdayOf(year, month, day) === dow.day && day + 7 > daysIn(year, month);
    case 'nth':
      return weekdayOf(year, month, day) === dow.day && Math.ceil(day / 7) === dow.nth;
    case 'any':
      return true;
  }
}

const MINUTE = 60_000;

/** The first minute strictly after `after` that the expression matches, or null when none is left (years end at 2199). */
export function nextCronRun(cron: CronSchedule, after: Date): Date | null {
  const start = new Date(Math.floor(after.getTime() / MINUTE) * MINUTE + MINUTE);
  for (let year = start.getUTCFullYear(); year <= MAX_YEAR; year++) {
    if (!cron.years.has(year)) continue;
    const firstMonth = year === start.getUTCFullYear() ? start.getUTCMonth() + 1 : 1;
    for (let month = firstMonth; month <= 12; month++) {
      if (!cron.months.has(month)) continue;
      const sameMonth = year === start.getUTCFullYear() && month === start.getUTCMonth() + 1;
      for (let day = sameMonth ? start.getUTCDate() : 1; day <= daysIn(year, month); day++) {
        if (!dayMatches(cron, year, month, day)) continue;
        const sameDay = sameMonth && day === start.getUTCDate();
        for (const hour of cron.hours) {
          if (sameDay && hour < start.getUTCHours()) continue;
          const sameHour = sameDay && hour === start.getUTCHours();
          const minute = cron.minutes.find((m) => !sameHour || m >= start.getUTCMinutes());
          if (minute !== undefined) return new Date(Date.UTC(year, month - 1, day, hour, minute));
        }
      }
    }
  }
  return null;
}
