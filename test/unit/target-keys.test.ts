/**
 * The target-key check of a batch of row objects, and the key identity it shares with the block
 * path: equal keys are found whatever their JavaScript type, and the error names the key as the
 * user would write it (one value quoted, several as a JSON array).
 */
import { describe, expect, it } from 'vitest';
import { KeyIntegrityError } from '../../lib/core/errors.ts';
import { assertTargetKeys, keyIdentity, keyLabel } from '../../lib/core/target-keys.ts';

const composite = { type: 'postgres' as const, table: 'analytics.sales', key: ['region', 'day'] };

describe('target keys', () => {
  it('refuses a composite key written twice, naming both values', () => {
    const rows = [
      { region: 'eu', day: new Date('2026-01-01T00:00:00Z'), total: 1 },
      { region: 'eu', day: new Date('2026-01-02T00:00:00Z'), total: 2 },
      { region: 'eu', day: new Date('2026-01-01T00:00:00Z'), total: 3 },
    ];
    expect(() => assertTargetKeys(rows, composite)).toThrow(KeyIntegrityError);
    expect(() => assertTargetKeys(rows, composite)).toThrow(
      'the batch for target analytics.sales has the key (region, day) = ["eu","2026-01-01T00:00:00.000Z"] more than once',
    );
  });

  it('tells composite keys apart that a naive join would confuse, and accepts them', () => {
    const rows = [
      { region: 'a,b', day: 'c', total: 1 },
      { region: 'a', day: 'b,c', total: 2 },
    ];
    expect(() => assertTargetKeys(rows, composite)).not.toThrow();
  });

  it('gives one identity to equal values of different types, and labels one value or several', () => {
    expect(keyIdentity([10n])).toBe(keyIdentity(['10']));
    expect(keyIdentity([1, 'x'])).toBe('["1","x"]');
    expect(keyLabel(keyIdentity(['c1']), 1)).toBe('"c1"');
    expect(keyLabel(keyIdentity([1, 'x']), 2)).toBe('["1","x"]');
  });
});
