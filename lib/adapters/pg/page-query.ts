/**
 * The statements of a keyset page read (source-reader.ts) and the checks around them: the user's
 * SQL as one statement, wrapped as a subquery, filtered strictly after the cursor, ordered by the
 * keyset and limited, with the keyset values as text in trailing columns.
 */
import type pg from 'pg';
import { SourceQueryError } from '../../core/errors.ts';
import type { ReadRequest } from '../../core/ports.ts';
import { inspectSql } from '../../core/sql-text.ts';
import { quoteIdent } from './identifiers.ts';
import { oneStatement } from './read-session.ts';

/** The trailing columns `__etl_k0`, `__etl_k1`... carry the keyset values as text. */
export const KEY_ALIAS = '__etl_k';

/** The query as one statement, without its trailing `;` and comments; refused otherwise. */
export function statementBody(query: string): string {
  const { body, problem } = inspectSql(query);
  if (problem) throw new SourceQueryError(`source.query ${problem}`);
  return body;
}

/**
 * Builds the keyset page query; values travel as parameters, identifiers were validated. It asks
 * for one row more than the page, to see whether the page's last key repeats in the next row.
 */
export function pageQuery(request: ReadRequest, body = statementBody(request.query)): { sql: string; params: unknown[] } {
  const columns = request.keyset.map((c) => `src.${quoteIdent(c)}`);
  const params: unknown[] = [];
  const where: string[] = [];
  if (request.after) {
    params.push(...request.after);
    const placeholders = request.after.map((_, i) => `$${i + 1}`);
    where.push(`(${columns.join(', ')}) > (${placeholders.join(', ')})`);
  }
  if (request.below !== null) {
    params.push(request.below);
    where.push(`${columns[0]} < $${params.length}`);
  }
  params.push(request.limit + 1);
  const keys = columns.map((c, i) => `${c}::text AS ${KEY_ALIAS}${i}`).join(', ');
  // The body sits on lines of its own, so a comment on its last line cannot swallow the wrapper.
  const sql = `SELECT src.*, ${keys} FROM (\n${body}\n) AS src${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${columns.join(', ')} LIMIT $${params.length}`;
  return { sql, params };
}

/** Rows of the whole source with a NULL keyset column, per column (user SQL: a read session only). */
export async function countNullKeys(client: pg.PoolClient, body: string, keyset: string[]): Promise<number[]> {
  await client.query('DISCARD ALL');
  const columns = keyset.map((c) => `src.${quoteIdent(c)}`);
  const counts = columns.map((c, i) => `count(*) FILTER (WHERE ${c} IS NULL) AS n${i}`).join(', ');
  const result = await client.query(oneStatement(`SELECT ${counts} FROM (\n${body}\n) AS src WHERE ${columns.map((c) => `${c} IS NULL`).join(' OR ')}`));
  const row = result.rows[0] as Record<string, string>;
  return keyset.map((_, i) => Number(row[`n${i}`]));
}

/** `column src.x does not exist` names an internal alias: say which pipeline field needs `x`. */
export function explainMissingColumn(error: unknown, keyset: string[]): unknown {
  const e = error as { code?: string; message?: string };
  const missing = e.code === '42703' ? /column src\.(\S+) does not exist/.exec(e.message ?? '') : null;
  if (!missing) return error;
  const column = missing[1]!.replace(/^"|"$/g, '');
  return new SourceQueryError(`source.query returns no column "${column}", which the pipeline pages by (${keyset.join(', ')}); add it to the query's select list`, { cause: error });
}
