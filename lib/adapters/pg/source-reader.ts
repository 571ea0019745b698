/**
 * Reads the user's SQL in keyset pages: the query is wrapped as a subquery, filtered strictly
 * after the cursor, ordered by the keyset and limited. No OFFSET, no cursor held across Lambda
 * invocations.
 * Every statement runs on a read session (read-session.ts: one statement, read-only, reset after).
 */
import type pg from 'pg';
import { InvalidDefinitionError, KeyIntegrityError, SourceQueryError } from '../../core/errors.ts';
import type { ReadRequest, ReadResult, Row, SourceReader } from '../../core/ports.ts';
import { inspectSql } from '../../core/sql-text.ts';
import { quoteIdent } from './identifiers.ts';
import { oneStatement, withReadSession } from './read-session.ts';

const KEY_ALIAS = '__etl_k';
const TIMESTAMP_TYPES = new Set([1184, 1114]);

export interface PgSourceReaderOptions {
  /** Names the connection in errors (never its password). */
  label: string;
}

export function createPgSourceReader(pool: pg.Pool, options: PgSourceReaderOptions): SourceReader {
  const session = <T>(work: (client: pg.PoolClient) => Promise<T>) => withReadSession(pool, options.label, work);

  const userStatement = (client: pg.PoolClient, text: string, values: unknown[] = []) => client.query(oneStatement(text, values));

  return {
    async readBatch(request: ReadRequest): Promise<ReadResult> {
      const body = statementBody(request.query);
      const page = await session(async (client) => {
        const { sql, params } = pageQuery(request, body);
        const result = await userStatement(client, sql, params).catch((error: unknown) => {
          throw explainMissingColumn(error, request.keyset);
        });
        const { rows, cursors } = splitKeys(result.rows as Row[], request.keyset.length);
        const done = rows.length <= request.limit;
        const nulls = cursors.some((cursor) => cursor.some((value) => value === null));
        // Rows with a NULL key never satisfy the keyset filter: count them when they show up and
        // at the end of the read, where nothing else would notice them.
        // (The count starts from a fresh session state: the page query may have changed its own.)
        const nullCounts = nulls || done ? await countNullKeys(client, body, request.keyset) : null;
        return { rows, cursors, done, nullCounts };
      });
      if (page.nullCounts) assertNoNullKeys(page.nullCounts, request.keyset);
      assertUniqueKeys(page.cursors, request.keyset);
      const rows = page.rows.slice(0, request.limit);
      const last = rows.length > 0 ? page.cursors[rows.length - 1]! : null;
      return { rows, last: last as string[] | null, done: page.done };
    },

    async horizon(query: string, column: string): Promise<string | null> {
      const body = statementBody(query);
      return await session(async (client) => {
        const probe = await userStatement(client, `SELECT src.${quoteIdent(column)} FROM (\n${body}\n) AS src LIMIT 0`).catch((error: unknown) => {
          throw explainMissingColumn(error, [column]);
        });
        const type = probe.fields[0]?.dataTypeID;
        if (type === undefined || !TIMESTAMP_TYPES.has(type)) return null;
        const { rows: seen } = await client.query<{ sees_all: boolean; role: string }>(
          `SELECT current_user AS role, coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false)
                  OR pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS sees_all`,
        );
        if (!seen[0]!.sees_all) {
          throw new InvalidDefinitionError(
            `connection ${options.label}: role "${seen[0]!.role}" cannot see other sessions' open transactions, which the late-commit horizon of an incremental pipeline needs (GRANT pg_read_all_stats TO "${seen[0]!.role}"; see docs/SECURITY.md)`,
          );
        }
        // Rows are stamped with their transaction's start time (now()); a transaction still open
        // started no earlier than the oldest open one, so nothing can commit below that instant.
        const { rows } = await client.query<{ horizon: string }>(
          `SELECT (coalesce(min(xact_start), now()))${type === 1114 ? '::timestamp' : ''}::text AS horizon
           FROM pg_stat_activity
           WHERE datname = current_database() AND backend_type = 'client backend'
             AND xact_start IS NOT NULL AND pid <> pg_backend_pid()`,
        );
        return rows[0]!.horizon;
      });
    },
  };
}

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

function splitKeys(records: Row[], keyCount: number): { rows: Row[]; cursors: (string | null)[][] } {
  const rows: Row[] = [];
  const cursors: (string | null)[][] = [];
  for (const record of records) {
    const row: Row = {};
    const cursor: (string | null)[] = new Array<string | null>(keyCount);
    for (const field in record) {
      if (field.startsWith(KEY_ALIAS)) cursor[Number(field.slice(KEY_ALIAS.length))] = record[field] as string | null;
      else row[field] = record[field];
    }
    rows.push(row);
    cursors.push(cursor);
  }
  return { rows, cursors };
}

async function countNullKeys(client: pg.PoolClient, body: string, keyset: string[]): Promise<number[]> {
  await client.query('DISCARD ALL');
  const columns = keyset.map((c) => `src.${quoteIdent(c)}`);
  const counts = columns.map((c, i) => `count(*) FILTER (WHERE ${c} IS NULL) AS n${i}`).join(', ');
  const result = await client.query(oneStatement(`SELECT ${counts} FROM (\n${body}\n) AS src WHERE ${columns.map((c) => `${c} IS NULL`).join(' OR ')}`));
  const row = result.rows[0] as Record<string, string>;
  return keyset.map((_, i) => Number(row[`n${i}`]));
}

function assertNoNullKeys(counts: number[], keyset: string[]): void {
  const found = keyset.map((column, i) => ({ column, rows: counts[i]! })).filter((c) => c.rows > 0);
  if (found.length === 0) return;
  const what = found.map((c) => `${c.rows} row${c.rows === 1 ? '' : 's'} with a NULL "${c.column}"`).join(' and ');
  throw new KeyIntegrityError(
    `the source query returns ${what}; the pipeline pages by (${keyset.join(', ')}), which must be non-null and unique, so these rows would be skipped. Filter them out or use a key that is never NULL.`,
  );
}

function assertUniqueKeys(cursors: (string | null)[][], keyset: string[]): void {
  for (let i = 1; i < cursors.length; i++) {
    const previous = cursors[i - 1]!;
    const current = cursors[i]!;
    if (current.every((value, k) => value !== null && value === previous[k])) {
      const value = keyset.length === 1 ? JSON.stringify(current[0]) : `(${current.map((v) => JSON.stringify(v)).join(', ')})`;
      throw new KeyIntegrityError(
        `the source query returns the key (${keyset.join(', ')}) = ${value} more than once; the pipeline pages by this key, which must be unique, or rows would be skipped or merged. Make the query return each key once, or page by a unique column (source.incremental_id_key).`,
      );
    }
  }
}

/** `column src.x does not exist` names an internal alias: say which pipeline field needs `x`. */
function explainMissingColumn(error: unknown, keyset: string[]): unknown {
  const e = error as { code?: string; message?: string };
  const missing = e.code === '42703' ? /column src\.(\S+) does not exist/.exec(e.message ?? '') : null;
  if (!missing) return error;
  const column = missing[1]!.replace(/^"|"$/g, '');
  return new SourceQueryError(`source.query returns no column "${column}", which the pipeline pages by (${keyset.join(', ')}); add it to the query's select list`, { cause: error });
}
