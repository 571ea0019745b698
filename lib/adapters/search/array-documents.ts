/**
 * Bulk actions from rows read as arrays: each document's JSON is written member by member from
 * the values, without a row object in between, and is byte for byte what `buildActions` writes
 * for the row object of the same values (field order, repeated names and the run marker as
 * lib/core/row-layout.ts and bulk-body.ts describe).
 */
import type { RowBlock } from '../../core/ports.ts';
import { rowLayout, valuePosition } from '../../core/row-layout.ts';
import { deleteAction, documentIdOf, indexAction, indexActionPrefix, serializeDocument, type BulkAction, type DocumentField } from './bulk-body.ts';

/** One value's JSON, as JSON.stringify writes it inside a row (a bigint as its digits in a string). */
export function valueJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    default:
      return value === null ? 'null' : serializeDocument(value);
  }
}

/**
 * The actions of a block: `index` with the document (without the `omit` columns), or `delete`
 * where `deletes[i]` is true. Throws RejectedRowError for a key that cannot be an _id, naming the
 * row by its place in the batch.
 */
export function arrayActions(columns: string[], omit: readonly string[], index: string, idField: string, extra?: DocumentField): (block: RowBlock, deletes: readonly boolean[] | null) => BulkAction[] {
  const layout = rowLayout(columns, omit);
  const idPosition = valuePosition(columns, idField);
  const members = layout.names.map((name, i) => `${i === 0 ? '' : ','}${JSON.stringify(name)}:`);
  const markerAt = extra === undefined ? -1 : layout.names.indexOf(extra.field);
  const markerJson = extra === undefined ? '' : JSON.stringify(extra.value);
  // The marker is appended as the last member, unless the row has that field already (then its value is replaced in place).
  const tail = extra === undefined || markerAt >= 0 ? '}' : `${members.length === 0 ? '' : ','}${JSON.stringify(extra.field)}:${markerJson}}`;
  const prefix = indexActionPrefix(index);
  const { positions } = layout;

  const documentOf = (row: unknown[]): string => {
    let json = '{';
    for (let f = 0; f < positions.length; f++) json += members[f] + (f === markerAt ? markerJson : valueJson(row[positions[f]!]));
    return json + tail;
  };

  return (block, deletes) => {
    const actions = new Array<BulkAction>(block.rows.length);
    for (let i = 0; i < block.rows.length; i++) {
      const row = block.rows[i]!;
      const id = documentIdOf(idPosition < 0 ? undefined : row[idPosition], idField, block.offset + i);
      actions[i] = deletes?.[i] ? deleteAction(index, id) : indexAction(prefix, id, documentOf(row));
    }
    return actions;
  };
}
