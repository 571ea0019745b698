/**
 * Soft deletes (`source.deleted_flag`): a row whose flag is true deletes its key from the target
 * instead of being written. The flag is read from the rows as they reach the writer, after any
 * transform, and it is a control column: it is never written to the target.
 */
import { RejectedRowError } from './errors.ts';
import type { Row } from './ports.ts';

export interface SplitBatch {
  /** Rows to write, without the flag column. */
  upserts: Row[];
  /** Rows whose key is deleted (only their key is used), without the flag column. */
  deletes: Row[];
}

/**
 * Splits a batch on the flag. NULL counts as false (the row is written), as SQL's `WHERE flag`
 * would skip it. A row without the field at all is refused: a task that renamed or dropped the
 * column would otherwise turn every delete into a write, silently.
 */
export function splitDeletes(rows: Row[], flag: string | undefined): SplitBatch {
  if (flag === undefined) return { upserts: rows, deletes: [] };
  const upserts: Row[] = [];
  const deletes: Row[] = [];
  rows.forEach((row, position) => {
    if (!(flag in row)) throw missingFlagError(flag, position);
    const { [flag]: value, ...rest } = row;
    (isDeletion(value, flag, position) ? deletes : upserts).push(rest);
  });
  return { upserts, deletes };
}

/** The row has no flag field when it reaches the writer (`position` counts from 0 in the batch). */
export function missingFlagError(flag: string, position: number): RejectedRowError {
  return new RejectedRowError(`row ${position + 1} of the batch has no "${flag}" field (source.deleted_flag) when it reaches the writer; a task must keep that column`);
}

/** Whether a row's flag value deletes it: true does, false and NULL do not, anything else is refused. */
export function isDeletion(value: unknown, flag: string, position: number): boolean {
  if (value !== true && value !== false && value !== null) {
    throw new RejectedRowError(`row ${position + 1} of the batch: "${flag}" (source.deleted_flag) must be true, false or NULL, got ${typeof value} ${shown(value)}`);
  }
  return value === true;
}

/** JSON, except that a bigint (which JSON cannot say) shows as its digits. */
function shown(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? String(value);
}
