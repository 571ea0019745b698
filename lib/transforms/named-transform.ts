/**
 * What a named transform is: a small pure function of one row, built once per compile from
 * params that its zod schema has already checked.
 */
import { z } from 'zod';
import type { Row } from '../core/ports.ts';

/** One row in; a row out, several rows out (an array), or none (null drops the row). */
export type RowTransform = (row: Row) => Row | Row[] | null;

export interface NamedTransform {
  readonly name: string;
  readonly description: string;
  readonly params: z.ZodType;
  /** Only ever called with the output of `params.parse`, so the cast in defineTransform holds. */
  create(params: unknown): RowTransform;
}

export function defineTransform<S extends z.ZodType>(definition: {
  name: string;
  description: string;
  params: S;
  create(params: z.output<S>): RowTransform;
}): NamedTransform {
  return { ...definition, create: (params) => definition.create(params as z.output<S>) };
}

const FIELD = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * A field of a row: what a PostgreSQL column or a search document field can be called without
 * quoting. `__proto__` would set the row object's prototype instead of a field.
 */
export const fieldName = z
  .string()
  .regex(FIELD, 'must be a field name (letters, digits, underscore; not starting with a digit; at most 63 characters)')
  .refine((name) => name !== '__proto__', 'must not be "__proto__"');

export function isFieldName(name: string): boolean {
  return FIELD.test(name) && name !== '__proto__';
}

/** Named transforms fail loudly on a missing field: a SQL reader always yields every column, so it is a typo in params. */
export function requireField(row: Row, field: string): unknown {
  if (!Object.hasOwn(row, field)) throw new Error(`${field} is missing from the row (check the task's params)`);
  return row[field];
}
