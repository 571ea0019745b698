/**
 * How source values leave PostgreSQL: dates and times as ISO 8601 text with full precision
 * (node-postgres would make JS Dates, losing microseconds and shifting plain dates by the local
 * time zone). Text in ISO form is accepted back by PostgreSQL and by the search engines' date fields.
 */
import pg from 'pg';

const TIMESTAMPTZ = 1184;
const TIMESTAMP = 1114;
const DATE = 1082;
const TIME = 1083;
const TIMETZ = 1266;

/** `2024-01-01 10:00:00.123456+00` -> `2024-01-01T10:00:00.123456+00:00`. */
export function isoTimestamp(text: string): string {
  const match = /^(\d{4,}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)(?:([+-]\d\d)(?::?(\d\d))?(?::\d\d)?)?$/.exec(text);
  if (!match) return text; // infinity, BC dates: keep PostgreSQL's own spelling
  const [, date, time, hours, minutes] = match;
  return hours ? `${date}T${time}${hours}:${minutes ?? '00'}` : `${date}T${time}`;
}

const raw = (value: string) => value;

const defaultParser = (oid: number): ((value: string) => unknown) => pg.types.getTypeParser(oid, 'text') as (value: string) => unknown;

export const sourceTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number) => {
    if (oid === TIMESTAMPTZ || oid === TIMESTAMP) return isoTimestamp;
    if (oid === DATE || oid === TIME || oid === TIMETZ) return raw;
    return defaultParser(oid);
  }) as pg.CustomTypesConfig['getTypeParser'],
};
