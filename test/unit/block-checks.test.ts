/**
 * The checks of a batch read in blocks give the outcome of the checks of the same batch read at
 * once: keyset values repeated across blocks, NULL or repeated target keys counted over the whole
 * batch, the deleted_flag, and which of these wins when several rows are wrong.
 */
import { describe, expect, it } from 'vitest';
import { KeyIntegrityError, RejectedRowError } from '../../lib/core/errors.ts';
import { blockChecks } from '../../lib/core/block-checks.ts';
import { keysetSequence } from '../../lib/core/keyset-sequence.ts';
import type { RowBlock } from '../../lib/core/ports.ts';
import type { SearchTarget } from '../../lib/core/pipeline.ts';
import { splitDeletes } from '../../lib/core/soft-deletes.ts';
import { assertTargetKeys } from '../../lib/core/target-keys.ts';

const target: SearchTarget = { type: 'elasticsearch', index: 'films', id_field: 'code' };
const COLUMNS = ['id', 'code', 'gone'];

/** The batch's rows cut into blocks of `size`, as the reader hands them over. */
function blocks(rows: unknown[][], size: number): RowBlock[] {
  const out: RowBlock[] = [];
  for (let offset = 0; offset < rows.length; offset += size) out.push({ columns: COLUMNS, rows: rows.slice(offset, offset + size), offset });
  return out;
}

/** What the object path throws for the same rows (target keys, then the flag), or null. */
function objectPathError(rows: unknown[][], flag: string | undefined): Error | null {
  const objects = rows.map((row) => Object.fromEntries(COLUMNS.map((name, i) => [name, row[i]])));
  try {
    assertTargetKeys(objects, target);
    splitDeletes(objects, flag);
    return null;
  } catch (error) {
    return error as Error;
  }
}

function run(rows: unknown[][], flag: string | undefined, size = 3) {
  const checks = blockChecks(target, flag);
  const accepted = blocks(rows, size).map((block) => checks.accept(block));
  return { accepted, error: checks.error() };
}

const rowsOf = (count: number): unknown[][] => Array.from({ length: count }, (_, i) => [i, `c${i}`, i % 4 === 0]);

describe('block checks', () => {
  it('pass a clean batch and say which rows delete their key', () => {
    const { accepted, error } = run(rowsOf(7), 'gone');
    expect(error).toBeNull();
    expect(accepted).toEqual([
      { ok: true, deletes: [true, false, false] },
      { ok: true, deletes: [false, true, false] },
      { ok: true, deletes: [false] },
    ]);
    expect(run(rowsOf(2), undefined).accepted).toEqual([{ ok: true, deletes: null }]);
  });

  it('refuse a target key repeated in a later block, naming it as the object path does, and stop the writes from that block on', () => {
    const rows = rowsOf(8);
    rows[6]![1] = 'c1';
    const { accepted, error } = run(rows, undefined);
    expect(accepted.map((a) => a.ok)).toEqual([true, true, false]);
    expect(error).toBeInstanceOf(KeyIntegrityError);
    expect(error).toEqual(objectPathError(rows, undefined));
    expect(error!.message).toContain('the key (code) = "c1" more than once');
  });

  it('count NULL target keys over the whole batch, and let them win over a repeat and a bad flag found earlier', () => {
    const rows = rowsOf(9);
    rows[1]![1] = 'c0';
    rows[2]![2] = 'yes';
    rows[5]![1] = null;
    rows[8]![1] = null;
    const { error } = run(rows, 'gone');
    expect(error).toEqual(objectPathError(rows, 'gone'));
    expect(error!.message).toContain('2 rows with a NULL "code"');
  });

  it('refuse a missing or non-boolean flag naming the row by its place in the batch', () => {
    const rows = rowsOf(6);
    rows[4]![2] = 'yes';
    const { error } = run(rows, 'gone');
    expect(error).toBeInstanceOf(RejectedRowError);
    expect(error).toEqual(objectPathError(rows, 'gone'));
    const noFlag = blockChecks(target, 'deleted');
    expect(noFlag.accept({ columns: COLUMNS, rows: rowsOf(2), offset: 0 })).toEqual({ ok: false });
    expect(noFlag.error()!.message).toContain('row 1 of the batch has no "deleted" field');
  });
});

describe('keyset sequence', () => {
  it('refuses a value equal to the one before it, naming it; NULLs are noted, not compared', () => {
    const sequence = keysetSequence(['updated', 'id']);
    sequence.accept(['2024', '1']);
    sequence.accept(['2024', '2']);
    sequence.accept([null, '2']);
    expect(sequence.sawNull).toBe(true);
    sequence.accept(['2024', '3']);
    expect(() => sequence.accept(['2024', '3'])).toThrow(KeyIntegrityError);
    expect(() => sequence.accept(['2024', '3'])).toThrow('(updated, id) = ("2024", "3") more than once');
  });
});
