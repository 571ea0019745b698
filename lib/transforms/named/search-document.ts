/** Shapes a row into a search document: chosen fields plus full-text and suggest fields. */
import { z } from 'zod';
import type { Row } from '../../core/ports.ts';
import { defineTransform, fieldName } from '../named-transform.ts';

const fieldList = z.array(fieldName).min(1, 'must name at least one field').max(100);

const params = z.strictObject({
  /** Fields kept in the document (besides the generated ones); all fields when absent. */
  fields: fieldList.optional(),
  /** Fields concatenated into `text_field`, in this order. Names (persons) and arrays are flattened. */
  text_fields: fieldList.default(['title', 'description', 'genres', 'actors', 'directors', 'writers', 'persons']),
  text_field: fieldName.default('all_text'),
  /** Fields whose strings become the `suggest_field` array (completion suggester input); none when absent. */
  suggest_fields: fieldList.optional(),
  suggest_field: fieldName.default('suggest'),
});

export const searchDocument = defineTransform({
  name: 'search_document',
  description:
    'Builds a search document: keeps params.fields (all when absent), adds text_field (default "all_text": the text of ' +
    'text_fields joined by spaces, null when there is none; default title, description, genres, actors, directors, writers, persons) ' +
    'and, when suggest_fields is given, suggest_field (default "suggest": their distinct strings). ' +
    'Fields missing from the row are skipped; {name} objects (persons) contribute their name.',
  params,
  create({ fields, text_fields, text_field, suggest_fields, suggest_field }) {
    return (row) => {
      const out: Row = fields ? pick(row, fields) : { ...row };
      const text = text_fields.flatMap((field) => textOf(row[field]));
      out[text_field] = text.length > 0 ? text.join(' ') : null;
      if (suggest_fields) out[suggest_field] = [...new Set(suggest_fields.flatMap((field) => textOf(row[field])))];
      return out;
    };
  },
});

function pick(row: Row, fields: string[]): Row {
  const out: Row = {};
  for (const field of fields) if (Object.hasOwn(row, field)) out[field] = row[field];
  return out;
}

/** The strings a value contributes to full text: trimmed, non-empty; nested arrays and {name} objects flattened. */
function textOf(value: unknown): string[] {
  if (typeof value === 'string') {
    const trimmed = value.trim();
    return trimmed ? [trimmed] : [];
  }
  if (typeof value === 'number' || typeof value === 'boolean') return [String(value)];
  if (Array.isArray(value)) return value.flatMap(textOf);
  if (value !== null && typeof value === 'object' && 'name' in value) return textOf(value.name);
  return [];
}
