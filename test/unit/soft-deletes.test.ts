import { describe, expect, it } from 'vitest';
import { RejectedRowError } from '../../lib/core/errors.ts';
import { splitDeletes } from '../../lib/core/soft-deletes.ts';

describe('soft deletes', () => {
  it('send rows whose flag is true to the deletes and the rest, NULL included, to the writes, never with the flag', () => {
    const rows = [
      { id: 1, name: 'a', gone: true },
      { id: 2, name: 'b', gone: false },
      { id: 3, name: 'c', gone: null },
    ];
    expect(splitDeletes(rows, 'gone')).toEqual({
      deletes: [{ id: 1, name: 'a' }],
      upserts: [
        { id: 2, name: 'b' },
        { id: 3, name: 'c' },
      ],
    });
  });

  it('leave rows as they are without a flag', () => {
    const rows = [{ id: 1, gone: true }];
    expect(splitDeletes(rows, undefined)).toEqual({ upserts: rows, deletes: [] });
  });

  it('refuse a row that lost the flag on its way to the writer, or whose flag is not a boolean', () => {
    expect(() => splitDeletes([{ id: 1 }], 'gone')).toThrow(RejectedRowError);
    expect(() => splitDeletes([{ id: 1 }], 'gone')).toThrow('row 1 of the batch has no "gone" field (source.deleted_flag)');
    expect(() => splitDeletes([{ id: 1, gone: 'yes' }], 'gone')).toThrow('must be true, false or NULL, got string "yes"');
  });
});
