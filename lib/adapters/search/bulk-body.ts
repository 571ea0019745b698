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
  const value = row[idField];
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

export function serializeDocument(row: Row): string {
  return JSON.stringify(row, jsonValue);
}

/** Builds every action first, so a row without a key fails the batch before anything is written. */
export function buildActions(rows: Row[], index: string, idField: string): BulkAction[] {
  return rows.map((row, position) => {
    const id = documentId(row, idField, position);
    const lines = `${JSON.stringify({ index: { _index: index, _id: id } })}\n${serializeDocument(row)}\n`;
    return { kind: 'index' as const, id, lines, bytes: Buffer.byteLength(lines, 'utf8') };
  });
}

/** `delete` actions for the keys of soft-deleted rows, with the same _id as their `index` action would have. */
export function buildDeleteActions(rows: Row[], index: string, idField: string): BulkAction[] {
  return rows.map((row, position) => {
    const id = documentId(row, idField, position);
    const lines = `${JSON.stringify({ delete: { _index: index, _id: id } })}\n`;
    return { kind: 'delete' as const, id, lines, bytes: Buffer.byteLength(lines, 'utf8') };
  });
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
