/** film_dim shaping: a rating as a number with one decimal in [0, 10]. */
import { z } from 'zod';
import { defineTransform, fieldName, requireField } from '../named-transform.ts';

const MIN = 0;
const MAX = 10;

const params = z.strictObject({
  field: fieldName.default('rating'),
  /** What a null rating becomes; it stays null by default. */
  default: z.number().min(MIN).max(MAX).nullable().default(null),
});

export const normaliseRating = defineTransform({
  name: 'normalise_rating',
  description:
    'Makes the rating a number rounded to 1 decimal and clamped to [0, 10]; accepts numbers and numeric strings ' +
    '(pg returns numeric as "7.3"). null becomes params.default (null unless given). Params: field (default "rating"), default.',
  params,
  create({ field, default: fallback }) {
    return (row) => {
      const raw = requireField(row, field);
      return { ...row, [field]: raw === null ? fallback : normalise(toNumber(raw, field)) };
    };
  },
});

function toNumber(raw: unknown, field: string): number {
  // Number('') is 0: an empty string is not a rating of zero.
  const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
  if (!Number.isFinite(value)) throw new Error(`${field} must be a finite number or numeric string, got ${JSON.stringify(raw) ?? typeof raw}`);
  return value;
}

function normalise(value: number): number {
  const clamped = Math.min(MAX, Math.max(MIN, value));
  return Math.round(clamped * 10) / 10;
}
