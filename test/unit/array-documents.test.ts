/**
 * Documents built from rows read as arrays are byte for byte the documents built from the row
 * objects of the same values (the way node-postgres and the reader build them): field order,
 * repeated column names, names that are array indexes, `__proto__`, every kind of value the
 * reader hands over, the run marker, and soft deletes.
 */
import { describe, expect, it } from 'vitest';
import { arrayActions, valueJson } from '../../lib/adapters/search/array-documents.ts';
import { buildActions, buildDeleteActions, type BulkAction } from '../../lib/adapters/search/bulk-body.ts';
import { RejectedRowError } from '../../lib/core/errors.ts';
import type { Row, RowBlock } from '../../lib/core/ports.ts';
import { rowLayout } from '../../lib/core/row-layout.ts';
import { splitDeletes } from '../../lib/core/soft-deletes.ts';

/**
 * The row object the object path writes: node-postgres prebuilds an object with every name (first
 * occurrence order) and assigns the values in column order; the reader then copies each field into
 * a plain object, leaving out the keyset columns.
 */
function objectRow(columns: string[], values: unknown[]): Row {
  const prebuilt = Object.create(null) as Row;
  for (const name of columns) prebuilt[name] = null;
  const record: Row = { ...prebuilt };
  columns.forEach((name, i) => (record[name] = values[i]));
  const row: Row = {};
  for (const field in record) row[field] = record[field];
  return row;
}

const COLUMNS = ['id', 'title', '10', 'n', 'title', '__proto__', '2', 'meta', 'when', 'big', 'gone', 'bytes'];
const valuesOf = (i: number): unknown[] => [
  i,
  `first ${i}`,
  i % 2 === 0 ? null : `ten "${i}"\n\ttab`,
  [0.1 + i, -0, 1e21, Number.NaN, Infinity][i % 5],
  `Amélie ${i} 映画 \u2028 \ud83c\udfac`,
  { polluted: true },
  i % 3 === 0,
  i % 4 === 0 ? null : { nested: [1, 'two', { three: null }], at: new Date(Date.UTC(2024, 0, i + 1)) },
  '2024-01-01T10:00:00.123456+00:00',
  i % 2 === 0 ? BigInt(i) * 10n ** 18n : '123456789012345678',
  i % 5 === 1 ? true : i % 5 === 2 ? null : false,
  Buffer.from([i, 255]),
];

const block = (count: number, offset = 0, trailing = true): RowBlock => ({
  columns: COLUMNS,
  // The reader's keyset columns follow the named values; they are not part of the row.
  rows: Array.from({ length: count }, (_, k) => [...valuesOf(offset + k), ...(trailing ? [String(offset + k)] : [])]),
  offset,
});

const lines = (actions: BulkAction[]) => actions.map((action) => action.lines);

describe('documents from arrays', () => {
  it('are the bytes buildActions writes for the row objects, with and without the run marker', () => {
    const arrays = block(40);
    const objects = arrays.rows.map((row) => objectRow(COLUMNS, row.slice(0, COLUMNS.length)));
    expect(lines(arrayActions(COLUMNS, [], 'films', 'id')(arrays, null))).toEqual(lines(buildActions(objects, 'films', 'id')));
    const marker = { field: 'etl_run_id', value: 'run-1' };
    expect(lines(arrayActions(COLUMNS, [], 'films', 'id', marker)(arrays, null))).toEqual(lines(buildActions(objects, 'films', 'id', marker)));
  });

  it('replace the run marker in place when the query returns that field, as a spread of the row would', () => {
    const columns = ['id', 'etl_run_id', 'name'];
    const arrays: RowBlock = { columns, rows: [[1, 'old', 'a']], offset: 0 };
    const marker = { field: 'etl_run_id', value: 'run-2' };
    const [action] = arrayActions(columns, [], 'films', 'id', marker)(arrays, null);
    expect(action!.lines).toBe(buildActions([objectRow(columns, [1, 'old', 'a'])], 'films', 'id', marker)[0]!.lines);
    expect(action!.lines.split('\n')[1]).toBe('{"id":1,"etl_run_id":"run-2","name":"a"}');
  });

  it('leave out the deleted_flag and delete the flagged keys, as splitDeletes then buildActions do', () => {
    const arrays = block(25);
    const objects = arrays.rows.map((row) => objectRow(COLUMNS, row.slice(0, COLUMNS.length)));
    const { upserts, deletes } = splitDeletes(objects, 'gone');
    const flags = arrays.rows.map((row) => row[COLUMNS.indexOf('gone')] === true);
    const fromArrays = arrayActions(COLUMNS, ['gone'], 'films', 'id')(arrays, flags);
    const fromObjects = [...buildDeleteActions(deletes, 'films', 'id'), ...buildActions(upserts, 'films', 'id')];
    const byId = (actions: BulkAction[]) => [...actions].sort((a, b) => Number(a.id) - Number(b.id)).map((action) => `${action.kind} ${action.lines}`);
    expect(byId(fromArrays)).toEqual(byId(fromObjects));
    expect(fromArrays.filter((action) => action.kind === 'delete')).toHaveLength(5);
    expect(fromArrays.every((action) => !action.lines.includes('"gone"'))).toBe(true);
  });

  it('count bytes as the body will carry them', () => {
    for (const action of arrayActions(COLUMNS, [], 'films', 'id')(block(5), null)) expect(action.bytes).toBe(Buffer.byteLength(action.lines, 'utf8'));
  });

  it('name a row that cannot give an _id by its place in the batch', () => {
    const build = arrayActions(['id', 'name'], [], 'films', 'id');
    expect(() => build({ columns: ['id', 'name'], rows: [[1, 'a'], ['', 'b']], offset: 1000 }, null)).toThrow(
      new RejectedRowError('row 1002 of the batch has an empty id (target.id_field); an _id cannot be empty'),
    );
    expect(() => build({ columns: ['id', 'name'], rows: [[{ a: 1 }, 'b']], offset: 0 }, null)).toThrow('row 1 of the batch: id (target.id_field) must be a scalar');
  });

  it('write each value as JSON.stringify writes it inside an object', () => {
    for (const value of ['a"b\\c', '', 0, -0, 1.5, 1e-7, Number.NaN, -Infinity, true, false, null, [1, null], { a: [new Date(0)] }, 12n]) {
      expect(valueJson(value)).toBe(JSON.stringify({ v: value }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)).slice(5, -1));
    }
  });
});

describe('row layout', () => {
  it('lists names as a row object would: array indexes first, a repeated name in its first place with its last value, no __proto__, no omitted column', () => {
    expect(rowLayout(['b', 'a', '10', 'b', '__proto__', '2', 'x', '01'], ['x'])).toEqual({ names: ['2', '10', 'b', 'a', '01'], positions: [5, 2, 3, 1, 7] });
  });
});
