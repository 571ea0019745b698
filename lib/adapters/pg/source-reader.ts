/**
 * Reads the user's SQL in keyset pages: the query is wrapped as a subquery, filtered strictly
 * after the cursor, ordered by the keyset and limited. No OFFSET, no cursor held across Lambda
 * invocations.
 * Every statement runs on a read session (read-session.ts: one statement, read-only, reset after).
 */
import type pg from 'pg';
import { InvalidDefinitionError } from '../../core/errors.ts';
import { nullKeysError } from '../../core/key-integrity.ts';
import { keysetSequence } from '../../core/keyset-sequence.ts';
import type { ReadRequest, ReadResult, Row, SourceReader } from '../../core/ports.ts';
import { readPageInBlocks } from './block-reader.ts';
import { quoteIdent } from './identifiers.ts';
import { KEY_ALIAS, countNullKeys, explainMissingColumn, pageQuery, statementBody } from './page-query.ts';
import { oneStatement, withReadSession } from './read-session.ts';

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
      const nulls = page.nullCounts ? nullKeysError(page.nullCounts, request.keyset) : null;
      if (nulls) throw nulls;
      const sequence = keysetSequence(request.keyset);
      for (const cursor of page.cursors) sequence.accept(cursor);
      const rows = page.rows.slice(0, request.limit);
      const last = rows.length > 0 ? page.cursors[rows.length - 1]! : null;
      return { rows, last: last as string[] | null, done: page.done };
    },

    readBlocks: (request, blockRows, onBlock) => session((client) => readPageInBlocks(client, request, blockRows, onBlock)),

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
