/**
 * Pages of GET /pipelines and GET /pipelines/{id}/runs: `?limit=N&after=<cursor>`, answered with
 * `next`, the cursor of the following page (null on the last one). Keyset pages, never OFFSET, so
 * a pipeline created or a run requested meanwhile neither repeats nor hides an item: pipelines
 * in name order (names are unique), runs newest first by (requested_at, id). The cursor is opaque
 * to clients; inside it is the position of the page's last item (a pipeline name, a run id).
 */
import { ValidationError } from './errors.ts';
import { PAGE_BUDGET_BYTES, jsonBytes } from './limits.ts';

export type ListKind = 'pipelines' | 'runs';

export const DEFAULT_PAGE_LIMIT = 50;
/** Runs kept the 500 that `?limit` allowed before pages existed. */
export const MAX_PAGE_LIMIT: Readonly<Record<ListKind, number>> = { pipelines: 200, runs: 500 };

export interface PageRequest {
  limit: number;
  /** The position after which the page starts (a pipeline name, a run id), or null for the first page. */
  after: string | null;
}

export interface Page<T> {
  items: T[];
  next: string | null;
}

const POSITION: Readonly<Record<ListKind, RegExp>> = {
  pipelines: /^[A-Za-z0-9_.-]{1,100}$/,
  runs: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
};

/** Reads `limit` and `after` from a query string; ValidationError naming the parameter. */
export function parsePageRequest(kind: ListKind, query: Readonly<Record<string, string | undefined>>): PageRequest {
  const max = MAX_PAGE_LIMIT[kind];
  let limit = DEFAULT_PAGE_LIMIT;
  if (query.limit !== undefined) {
    limit = /^\d{1,6}$/.test(query.limit) ? Number(query.limit) : NaN;
    if (!(limit >= 1 && limit <= max)) throw new ValidationError(`limit: must be an integer from 1 to ${max} (default ${DEFAULT_PAGE_LIMIT})`, 'limit');
  }
  return { limit, after: query.after === undefined ? null : decodeCursor(kind, query.after) };
}

export function encodeCursor(kind: ListKind, position: string): string {
  return Buffer.from(JSON.stringify([kind, position]), 'utf8').toString('base64url');
}

function decodeCursor(kind: ListKind, cursor: string): string {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  const position = Array.isArray(decoded) && decoded.length === 2 && decoded[0] === kind ? (decoded[1] as unknown) : undefined;
  if (typeof position !== 'string' || !POSITION[kind].test(position)) {
    throw new ValidationError(`after: not a cursor of this list (pass the "next" of the previous page of GET ${kind === 'runs' ? '/pipelines/{id}/runs' : '/pipelines'})`, 'after');
  }
  return position;
}

/**
 * Cuts a page out of up to `limit + 1` items read after the request's position: at most `limit`
 * items, ending early once they would pass `budget` bytes of JSON (limits.ts has the arithmetic).
 * The first item is always kept, so a page is never empty while items remain. `next` points
 * after the last kept item when anything was left out.
 */
export function fitPage<T>(kind: ListKind, read: readonly T[], limit: number, positionOf: (item: T) => string, budget = PAGE_BUDGET_BYTES): Page<T> {
  const items: T[] = [];
  let bytes = 0;
  for (const item of read.slice(0, limit)) {
    const size = jsonBytes(item) + 1;
    if (items.length > 0 && bytes + size > budget) break;
    items.push(item);
    bytes += size;
  }
  const last = items.at(-1);
  return { items, next: last !== undefined && items.length < read.length ? encodeCursor(kind, positionOf(last)) : null };
}
