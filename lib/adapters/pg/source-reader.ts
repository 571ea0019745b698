/**
 * Reads the user's SQL in keyset pages: the query is wrapped as a subquery, filtered strictly
 * after the cursor, ordered by the keyset and limited. Each page is its own short read-only
 * transaction with a statement timeout: no OFFSET, no cursor held across Lambda invocations.
 */
import type pg from 'pg';
import type { ReadRequest, ReadResult, Row, SourceReader } from '../../core/ports.ts';
import { checkout } from './checkout.ts';
import { classifyPgError } from './classify.ts';
import { quoteIdent } from './identifiers.ts';
import { sourceTypes } from './value-types.ts';

const KEY_ALIAS = '__etl_k';
const TIMESTAMP_TYPES = new Set([1184, 1114]);

export interface PgSourceReaderOptions {
  statementTimeoutMs: number;
}

export function createPgSourceReader(pool: pg.Pool, options: PgSourceReaderOptions): SourceReader {
  async function readOnly<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await checkout(pool, 'state', 'connecting to the source');
    try {
      await client.query('BEGIN READ ONLY');
      await client.query(`SET LOCAL statement_timeout = ${Math.trunc(options.statementTimeoutMs)}`);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  return {
    async readBatch(request: ReadRequest): Promise<ReadResult> {
      const { sql, params } = pageQuery(request);
      const result = await readOnly((client) => client.query({ text: sql, values: params, types: sourceTypes })).catch((error: unknown) => {
        throw classifyPgError(error, 'source', 'source query');
      });
      const rows: Row[] = [];
      let last: string[] | null = null;
      for (const record of result.rows as Row[]) {
        const row: Row = {};
        const cursor: string[] = [];
        for (const [field, value] of Object.entries(record)) {
          if (field.startsWith(KEY_ALIAS)) cursor[Number(field.slice(KEY_ALIAS.length))] = value as string;
          else row[field] = value;
        }
        rows.push(row);
        last = cursor;
      }
      return { rows, last };
    },

    async horizon(query: string, column: string): Promise<string | null> {
      return await readOnly(async (client) => {
        const probe = await client.query(`SELECT src.${quoteIdent(column)} FROM (${stripTerminator(query)}) AS src LIMIT 0`);
        const type = probe.fields[0]?.dataTypeID;
        if (type === undefined || !TIMESTAMP_TYPES.has(type)) return null;
        // Rows are stamped with their transaction's start time (now()); a transaction still open
        // started no earlier than the oldest open one, so nothing can commit below that instant.
        const { rows } = await client.query<{ horizon: string }>(
          `SELECT (coalesce(min(xact_start), now()))${type === 1114 ? '::timestamp' : ''}::text AS horizon
           FROM pg_stat_activity
           WHERE datname = current_database() AND backend_type = 'client backend'
             AND xact_start IS NOT NULL AND pid <> pg_backend_pid()`,
        );
        return rows[0]!.horizon;
      }).catch((error: unknown) => {
        throw classifyPgError(error, 'source', 'source query');
      });
    },
  };
}

/** Builds the keyset page query; values travel as parameters, identifiers were validated. */
export function pageQuery(request: ReadRequest): { sql: string; params: unknown[] } {
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
  params.push(request.limit);
  const keys = columns.map((c, i) => `${c}::text AS ${KEY_ALIAS}${i}`).join(', ');
  const sql = `SELECT src.*, ${keys} FROM (${stripTerminator(request.query)}) AS src${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${columns.join(', ')} LIMIT $${params.length}`;
  return { sql, params };
}

/** A trailing semicolon is natural in hand-written SQL but breaks the subquery wrapper. */
function stripTerminator(query: string): string {
  return query.trim().replace(/;+\s*$/, '');
}
