/**
 * Turns rows into bulk `index` actions with deterministic ids, and groups them into requests
 * bounded by bytes and by action count. Engines refuse bodies above `http.max_content_length`
 * (100 MB by default, 10 MB on small Amazon OpenSearch instances) and large bodies hurt heap and
 * latency; a few MB per request is the recommended range.
 */
import type { Row } from '../../core/ports.ts';
import { RejectedRowError } from '../../core/errors.ts';

/** One action: its NDJSON lines (two for `index`, one for `delete`), each ending with "\n", and their size in bytes. */
export interface BulkAction {
  kind: 'index' | 'delete';
  id: string;
  lines: string;
  bytes: number;
}

export interface ChunkLimits {
  maxBytes: number;
  maxActions: number;
}

/**
 * `_id` is the row's key as a string: the same row always lands on the same document, so a
 * retried or replayed batch replaces documents instead of adding new ones.
 */
export function documentId(row: Row, idField: string, position: number): string {
  return documentIdOf(row[idField], idField, position);
}

/** `documentId` of the key's value itself (rows read as arrays). */
export function documentIdOf(value: unknown, idField: string, position: number): string {
  if (value === null || value === undefined) {
    throw new RejectedRowError(`row ${position + 1} of the batch has no value in ${idField} (target.id_field), which gives the document its _id`);
  }
  let id: string;
  if (value instanceof Date) id = value.toISOString();
  else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') id = String(value);
  else throw new RejectedRowError(`row ${position + 1} of the batch: ${idField} (target.id_field) must be a scalar to serve as _id, got ${typeof value}`);
  if (id === '') throw new RejectedRowError(`row ${position + 1} of the batch has an empty ${idField} (target.id_field); an _id cannot be empty`);
  return id;
}

/**
 * Rows are written as they are, except what JSON cannot say: a Date becomes its ISO string (its
 * toJSON does that before this replacer runs) and a bigint becomes a decimal string.
 */
function jsonValue(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/**
 * The same text as `JSON.stringify(row, jsonValue)`, without the replacer when the row needs none:
 * a replacer takes V8 off its fast serializer, and only a bigint needs it (JSON.stringify throws a
 * TypeError on one; the replacer pass then writes it as a string).
 */
export function serializeDocument(row: unknown): string {
  try {
    return JSON.stringify(row);
  } catch (error) {
    if (error instanceof TypeError) return JSON.stringify(row, jsonValue);
    throw error;
  }
}

/** A field added to every document (the run marker), as `{ ...row, [field]: value }` would add it. */
export interface DocumentField {
  field: string;
  value: string;
}

/**
 * A document's JSON with `extra` set: appended as the last member without copying the row, or,
 * when the row already has that field (a spread keeps its place and replaces its value), through a copy.
 */
function documentJson(row: Row, extra: DocumentField | undefined, member: string): string {
  if (extra === undefined) return serializeDocument(row);
  if (Object.hasOwn(row, extra.field)) return serializeDocument({ ...row, [extra.field]: extra.value });
  const json = serializeDocument(row);
  return json === '{}' ? `{${member}}` : `${json.slice(0, -1)},${member}}`;
}

/**
 * Builds every action first, so a row without a key fails the batch before anything is written.
 * The NDJSON lines are written directly: the action line from a prefix built once per call, the
 * document with `extra` (the run marker) spliced into its JSON.
 */
export function buildActions(rows: Row[], index: string, idField: string, extra?: DocumentField): BulkAction[] {
  const prefix = indexActionPrefix(index);
  const member = extra === undefined ? '' : `${JSON.stringify(extra.field)}:${JSON.stringify(extra.value)}`;
  const actions = new Array<BulkAction>(rows.length);
  for (let position = 0; position < rows.length; position++) {
    const row = rows[position]!;
    actions[position] = indexAction(prefix, documentId(row, idField, position), documentJson(row, extra, member));
  }
  return actions;
}

/** The start of an `index` action line, up to its _id (built once per batch). */
export function indexActionPrefix(index: string): string {
  return `{"index":{"_index":${JSON.stringify(index)},"_id":`;
}

export function indexAction(prefix: string, id: string, document: string): BulkAction {
  const lines = `${prefix}${JSON.stringify(id)}}}\n${document}\n`;
  return { kind: 'index', id, lines, bytes: Buffer.byteLength(lines, 'utf8') };
}

export function deleteAction(index: string, id: string): BulkAction {
  const lines = `${JSON.stringify({ delete: { _index: index, _id: id } })}\n`;
  return { kind: 'delete', id, lines, bytes: Buffer.byteLength(lines, 'utf8') };
}

/** `delete` actions for the keys of soft-deleted rows, with the same _id as their `index` action would have. */
export function buildDeleteActions(rows: Row[], index: string, idField: string): BulkAction[] {
  return rows.map((row, position) => deleteAction(index, documentId(row, idField, position)));
}

/**
 * Groups actions in order. A single action larger than `maxBytes` goes alone: the engine decides
 * whether it is too large (413, classified as a rejected row).
 */
export function chunkActions(actions: BulkAction[], limits: ChunkLimits): BulkAction[][] {
  const chunks: BulkAction[][] = [];
  let current: BulkAction[] = [];
  let bytes = 0;
  for (const action of actions) {
    if (current.length > 0 && (bytes + action.bytes > limits.maxBytes || current.length >= limits.maxActions)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(action);
    bytes += action.bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

export function bulkBody(actions: BulkAction[]): string {
  return actions.map((action) => action.lines).join('');
}
