/**
 * The named transforms a task plan may use (`{"type": "transform", "transform": "<name>"}`).
 * Adding one: write it under named/ with defineTransform and list it here.
 */
import { z } from 'zod';
import type { NamedTransform } from './named-transform.ts';
import { dropWhereNull } from './named/drop-where-null.ts';
import { normaliseRating } from './named/normalise-rating.ts';
import { searchDocument } from './named/search-document.ts';
import { splitPersonsByRole } from './named/split-persons-by-role.ts';
import { unnest } from './named/unnest.ts';

const transforms: readonly NamedTransform[] = [splitPersonsByRole, normaliseRating, searchDocument, dropWhereNull, unnest];

const byName = new Map(transforms.map((transform) => [transform.name, transform]));

export function findTransform(name: string): NamedTransform | undefined {
  return byName.get(name);
}

export function transformNames(): string[] {
  return transforms.map((transform) => transform.name);
}

export interface TransformListing {
  name: string;
  description: string;
  /** JSON Schema of the params (input side: defaults are optional). */
  params: Record<string, unknown>;
}

/** Names, descriptions and params schemas, for docs and the CLI. */
export function listTransforms(): TransformListing[] {
  return transforms.map(({ name, description, params }) => ({
    name,
    description,
    params: z.toJSONSchema(params, { io: 'input', unrepresentable: 'any' }),
  }));
}
