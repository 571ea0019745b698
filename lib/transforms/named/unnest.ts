/** One row per element of an array field (e.g. a film_genre bridge table from film rows). */
import { z } from 'zod';
import { defineTransform, fieldName, requireField } from '../named-transform.ts';

export const unnest = defineTransform({
  name: 'unnest',
  description:
    'Emits one row per element of the array in params.field, the element stored in params.as (default: field itself). ' +
    'Like SQL CROSS JOIN unnest: an empty array or null drops the row; a non-array is an error. Params: field (required), as.',
  params: z.strictObject({ field: fieldName, as: fieldName.optional() }),
  create({ field, as }) {
    return (row) => {
      const values = requireField(row, field);
      if (values === null) return null;
      if (!Array.isArray(values)) throw new Error(`${field} must be an array, got ${typeof values}`);
      const { [field]: _array, ...rest } = row;
      return values.map((value: unknown) => ({ ...rest, [as ?? field]: value }));
    };
  },
});
