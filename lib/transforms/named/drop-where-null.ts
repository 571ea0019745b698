/** Drops rows whose field is null: rows without the value the target requires. */
import { z } from 'zod';
import { defineTransform, fieldName, requireField } from '../named-transform.ts';

export const dropWhereNull = defineTransform({
  name: 'drop_where_null',
  description: 'Drops the row when the given field is null (a missing field is an error, not null). Params: field (required).',
  params: z.strictObject({ field: fieldName }),
  create({ field }) {
    return (row) => (requireField(row, field) === null ? null : row);
  },
});
