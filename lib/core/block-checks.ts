/**
 * The checks a batch read in blocks (rows as arrays) passes before and while it is written, with
 * the same outcome as the checks of a batch of row objects (target-keys.ts, then soft-deletes.ts):
 * a NULL target key (counted over the whole batch), then the first repeated target key, then the
 * first row whose deleted_flag is missing or not a boolean. Blocks are checked as they arrive; once
 * one fails, the later ones are still checked (the error is the one of the whole batch) but not written.
 */
import type { TargetDefinition } from './pipeline.ts';
import type { RowBlock } from './ports.ts';
import { nullTargetKeysError, repeatedTargetKeyError } from './key-integrity.ts';
import { valuePosition } from './row-layout.ts';
import { isDeletion, missingFlagError } from './soft-deletes.ts';
import { keyIdentity, keyLabel, targetKeyColumns, targetLabel } from './target-keys.ts';

export interface BlockChecks {
  /**
   * Checks one block. Answers which of its rows delete their key (`deletes` null: none does), or
   * `ok: false` once the batch has failed (nothing more is to be written).
   */
  accept(block: RowBlock): { ok: true; deletes: boolean[] | null } | { ok: false };
  /** The batch's error after its last block, or null. */
  error(): Error | null;
}

interface Positions {
  keys: number[];
  /** -1: the rows have no flag column; undefined: the pipeline has no deleted_flag. */
  flag: number | undefined;
}

export function blockChecks(target: TargetDefinition, deletedFlag: string | undefined): BlockChecks {
  const columns = targetKeyColumns(target);
  const where = targetLabel(target);
  const nullCounts = columns.map(() => 0);
  const seen = new Set<string>();
  let repeated: Error | null = null;
  let rowError: Error | null = null;
  let positions: Positions | null = null;

  const keyOf = (row: unknown[], keys: number[]): string | null => {
    const values = keys.map((position) => (position < 0 ? undefined : row[position]));
    let nulls = false;
    values.forEach((value, k) => {
      if (value === null || value === undefined) {
        nullCounts[k]! += 1;
        nulls = true;
      }
    });
    return nulls ? null : keyIdentity(values);
  };

  const checkKey = (row: unknown[], keys: number[]): void => {
    const key = keyOf(row, keys);
    if (key === null || repeated) return;
    if (seen.has(key)) {
      repeated = repeatedTargetKeyError(keyLabel(key, keys.length), columns, where);
      seen.clear();
    } else seen.add(key);
  };

  const deletion = (row: unknown[], flag: number, position: number): boolean => {
    if (rowError) return false;
    try {
      if (flag < 0) throw missingFlagError(deletedFlag!, position);
      return isDeletion(row[flag], deletedFlag!, position);
    } catch (error) {
      rowError = error as Error;
      return false;
    }
  };

  const failed = () => repeated !== null || rowError !== null || nullCounts.some((n) => n > 0);

  return {
    accept(block) {
      positions ??= {
        keys: columns.map((column) => valuePosition(block.columns, column)),
        flag: deletedFlag === undefined ? undefined : valuePosition(block.columns, deletedFlag),
      };
      const { keys, flag } = positions;
      const deletes = flag === undefined ? null : new Array<boolean>(block.rows.length);
      for (let i = 0; i < block.rows.length; i++) {
        const row = block.rows[i]!;
        checkKey(row, keys);
        if (deletes) deletes[i] = deletion(row, flag!, block.offset + i);
      }
      return failed() ? { ok: false } : { ok: true, deletes };
    },
    error() {
      return nullTargetKeysError(nullCounts, columns, where) ?? repeated ?? rowError;
    },
  };
}
