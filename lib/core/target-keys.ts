/**
 * The target's key in a batch about to be written: NULL would be an upsert that can never match
 * (a duplicate on every replay, or a row the target refuses), and a repeat within one batch would
 * merge two source rows into one. Both fail the run, naming the column or the value.
 */
import { nullTargetKeysError, repeatedTargetKeyError } from './key-integrity.ts';
import type { TargetDefinition } from './pipeline.ts';
import type { Row } from './ports.ts';

export function targetKeyColumns(target: TargetDefinition): string[] {
  return target.type === 'postgres' ? [...target.key] : [target.id_field];
}

export function targetLabel(target: TargetDefinition): string {
  return target.type === 'postgres' ? `target ${target.table}` : `index ${target.index}`;
}

export function assertTargetKeys(rows: Row[], target: TargetDefinition): void {
  const columns = targetKeyColumns(target);
  const where = targetLabel(target);
  const nulls = nullTargetKeysError(columns.map((column) => rows.filter((row) => row[column] === null || row[column] === undefined).length), columns, where);
  if (nulls) throw nulls;
  const seen = new Set<string>();
  for (const row of rows) {
    const key = keyIdentity(columns.map((column) => row[column]));
    if (seen.has(key)) throw repeatedTargetKeyError(keyLabel(key, columns.length), columns, where);
    seen.add(key);
  }
}

/** One text per key value, equal exactly when the keys are: a single column's text, several as a JSON array. */
export function keyIdentity(values: unknown[]): string {
  return values.length === 1 ? keyText(values[0]) : JSON.stringify(values.map(keyText));
}

/** How an error names a key (from its identity): a single value quoted, several as the JSON array. */
export function keyLabel(identity: string, columns: number): string {
  return columns === 1 ? JSON.stringify(identity) : identity;
}

/** A key value as text, so keys compare equal exactly when they are the same value. */
export function keyText(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
