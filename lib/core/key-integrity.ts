/**
 * The messages of KeyIntegrityError, shared by every path that reads pages (JavaScript rows,
 * pushdown, COPY), so a NULL or repeated key fails the same way wherever it is found.
 */
import { KeyIntegrityError } from './errors.ts';

/** NULL counts per keyset column (the whole source): rows that keyset paging would skip. */
export function nullKeysError(counts: number[], keyset: string[]): KeyIntegrityError | null {
  const found = keyset.map((column, i) => ({ column, rows: counts[i] ?? 0 })).filter((c) => c.rows > 0);
  if (found.length === 0) return null;
  const what = found.map((c) => `${c.rows} row${c.rows === 1 ? '' : 's'} with a NULL "${c.column}"`).join(' and ');
  return new KeyIntegrityError(
    `the source query returns ${what}; the pipeline pages by (${keyset.join(', ')}), which must be non-null and unique, so these rows would be skipped. Filter them out or use a key that is never NULL.`,
  );
}

/** A keyset value (as text) seen twice in a page or across its end. */
export function repeatedKeysetError(value: (string | null)[], keyset: string[]): KeyIntegrityError {
  const shown = keyset.length === 1 ? JSON.stringify(value[0]) : `(${value.map((v) => JSON.stringify(v)).join(', ')})`;
  return new KeyIntegrityError(
    `the source query returns the key (${keyset.join(', ')}) = ${shown} more than once; the pipeline pages by this key, which must be unique, or rows would be skipped or merged. Make the query return each key once, or page by a unique column (source.incremental_id_key).`,
  );
}

/** NULL target keys within one batch. */
export function nullTargetKeysError(counts: number[], columns: string[], where: string): KeyIntegrityError | null {
  const nulls = columns.map((column, i) => ({ column, rows: counts[i] ?? 0 })).filter((c) => c.rows > 0);
  if (nulls.length === 0) return null;
  const what = nulls.map((c) => `${c.rows} row${c.rows === 1 ? '' : 's'} with a NULL "${c.column}"`).join(' and ');
  return new KeyIntegrityError(`the batch for ${where} has ${what}; the target key (${columns.join(', ')}) must be non-null`);
}

/** A target key seen twice within one batch; `shown` is the value as the message prints it. */
export function repeatedTargetKeyError(shown: string, columns: string[], where: string): KeyIntegrityError {
  return new KeyIntegrityError(`the batch for ${where} has the key (${columns.join(', ')}) = ${shown} more than once; each row must have its own key, or one would overwrite the other`);
}
