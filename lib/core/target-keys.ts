/**
 * The target's key in a batch about to be written: NULL would be an upsert that can never match
 * (a duplicate on every replay, or a row the target refuses), and a repeat within one batch would
 * merge two source rows into one. Both fail the run, naming the column or the value.
 */
import { KeyIntegrityError } from './errors.ts';
import type { TargetDefinition } from './pipeline.ts';
import type { Row } from './ports.ts';

export function targetKeyColumns(target: TargetDefinition): string[] {
  return target.type === 'postgres' ? [...target.key] : [target.id_field];
}

export function assertTargetKeys(rows: Row[], target: TargetDefinition): void {
  const columns = targetKeyColumns(target);
  const where = target.type === 'postgres' ? `target ${target.table}` : `index ${target.index}`;
  const nulls = columns.map((column) => ({ column, rows: rows.filter((row) => row[column] === null || row[column] === undefined).length })).filter((c) => c.rows > 0);
  if (nulls.length > 0) {
    const what = nulls.map((c) => `${c.rows} row${c.rows === 1 ? '' : 's'} with a NULL "${c.column}"`).join(' and ');
    throw new KeyIntegrityError(`the batch for ${where} has ${what}; the target key (${columns.join(', ')}) must be non-null`);
  }
  const seen = new Set<string>();
  for (const row of rows) {
    const key = JSON.stringify(columns.map((column) => keyText(row[column])));
    if (seen.has(key)) {
      const value = columns.length === 1 ? JSON.stringify(keyText(row[columns[0]!])) : key;
      throw new KeyIntegrityError(`the batch for ${where} has the key (${columns.join(', ')}) = ${value} more than once; each row must have its own key, or one would overwrite the other`);
    }
    seen.add(key);
  }
}

function keyText(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
