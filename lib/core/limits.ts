/**
 * Size limits of what the API accepts and answers. Every answer must fit in a Lambda response
 * (6 MB for a synchronous invocation, counted on the JSON envelope `{"statusCode", "headers",
 * "body": "<the answer as a JSON string>"}`), so what can grow is capped where it enters.
 *
 * The arithmetic for GET /pipelines (the largest answer):
 * - one pipeline answers at most MAX_DEFINITION_BYTES (256 KiB) of definition plus its id,
 *   status, timestamps, schedule and last tick (under 2 KiB: a schedule is at most 256 characters,
 *   a tick message at most 500);
 * - 200 of them (the largest page) would be 200 x 258 KiB = 50.4 MiB, so `limit` alone cannot
 *   bound a page: a page also ends before its items pass PAGE_BUDGET_BYTES (2 MiB). A page that
 *   ends early still carries `next`. The first item always fits (258 KiB < 2 MiB), so a page is
 *   never empty while items remain: body <= 2 MiB + `{"pipelines":[],"next":"<cursor>"}` (< 1 KiB);
 * - inside the Lambda envelope the body is a JSON string again, where each `"` and `\` doubles:
 *   at most 2 x (2 MiB + 1 KiB) + headers ~= 4.01 MiB, under the 6 MB (6,000,000 bytes) limit.
 * Runs use the same budget (a run is under 1 KiB unless its error or cursor is unusually long).
 */
import { ValidationError } from './errors.ts';

/** A request body larger than this is refused with 413 before it is parsed. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** A whole pipeline definition as stored and answered (JSON, UTF-8; a task plan's reader and writer also appear as source and target). */
export const MAX_DEFINITION_BYTES = 256 * 1024;
/** Each free-form object: a search target's `mapping`, a transform's `params`, a map task's `rename`, `compute` and `drop`. */
export const MAX_FREEFORM_BYTES = 64 * 1024;
/** Nesting of objects and arrays in a body: an Elasticsearch mapping 20 objects deep (its default depth limit) is about 45 levels. */
export const MAX_NESTING = 64;
export const MAX_QUERY_CHARS = 100_000;
/** A JSONata `filter` expression (each `compute` expression is bounded by MAX_FREEFORM_BYTES). */
export const MAX_EXPRESSION_CHARS = 10_000;
export const MAX_TASKS = 50;
export const MAX_KEY_COLUMNS = 8;
/** What one page of a list may carry before it ends early (see the arithmetic above). */
export const PAGE_BUDGET_BYTES = 2 * 1024 * 1024;
/** The synchronous Lambda response limit, in its most conservative reading. */
export const LAMBDA_RESPONSE_BYTES = 6_000_000;

/** `262144 bytes (256 KiB)`: how messages state a limit. */
export function describeBytes(bytes: number): string {
  return bytes % 1024 === 0 ? `${bytes} bytes (${bytes >= 1024 * 1024 ? `${bytes / 1024 / 1024} MiB` : `${bytes / 1024} KiB`})` : `${bytes} bytes`;
}

/** The size of `value` as the API answers it: JSON text in UTF-8. Call checkNesting first on untrusted input. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}

/**
 * Refuses values nested deeper than MAX_NESTING (ValidationError naming the path): JSON.parse
 * accepts any depth within the body limit, but JSON.stringify (ours, and the pg driver's) would
 * overflow the stack on it.
 */
export function checkNesting(value: unknown, maxDepth = MAX_NESTING): void {
  const path = deepPath(value, maxDepth, []);
  if (path) {
    const field = path.reduce<string>((acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '') || 'body';
    throw new ValidationError(`${field}: nested more than ${maxDepth} levels deep (the limit)`, field);
  }
}

/** The path of the first container past `remaining` levels, or null; recursion depth is bounded by maxDepth. */
function deepPath(value: unknown, remaining: number, path: (string | number)[]): (string | number)[] | null {
  if (value === null || typeof value !== 'object') return null;
  if (remaining === 0) return path;
  const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((item, i) => [i, item]) : Object.entries(value);
  for (const [key, item] of entries) {
    if (item === null || typeof item !== 'object') continue;
    const found = deepPath(item, remaining - 1, [...path, key]);
    if (found) return found;
  }
  return null;
}
