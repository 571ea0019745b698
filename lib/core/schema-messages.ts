/**
 * Turns the schema's first complaint into one message that names the field at fault, e.g.
 * `source.incremental_key: required in incremental mode` or `target.key[0]: must be a SQL identifier`.
 */
import type { z } from 'zod';
import { ValidationError } from './errors.ts';
import { checkNesting } from './limits.ts';
// Used when a message is built, long after both modules have loaded (no import-time cycle).
import { AUTO_BATCH_SIZE, MAX_BATCH_SIZE } from './pipeline.ts';

export function parseWith<T>(schema: z.ZodType<T>, body: unknown): T {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ValidationError('body: must be a JSON object', 'body');
  checkNesting(body);
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = describePath(issue.path, issue.code === 'unrecognized_keys' ? issue.keys : undefined);
  throw new ValidationError(`${field}: ${issueMessage(issue, valueAt(body, issue.path))}`, field);
}

function describePath(path: PropertyKey[], unknownKeys?: string[]): string {
  const parts = [...path.map(String), ...(unknownKeys?.slice(0, 1) ?? [])];
  return parts.reduce<string>((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '') || 'body';
}

function valueAt(body: unknown, path: PropertyKey[]): unknown {
  return path.reduce<unknown>((value, key) => (value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined), body);
}

function issueMessage(issue: z.core.$ZodIssue, value: unknown): string {
  if (issue.code === 'unrecognized_keys') return 'unknown field';
  if (issue.code === 'invalid_type' && value === undefined) return 'required';
  if (issue.code === 'invalid_union' && 'discriminator' in issue) return `type must be one of the known kinds`;
  if (issue.code === 'invalid_union' && issue.path.at(-1) === 'batch_size') return `must be an integer from 1 to ${MAX_BATCH_SIZE}, or "${AUTO_BATCH_SIZE}"`;
  return issue.message;
}
