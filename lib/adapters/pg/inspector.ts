/**
 * Looks at a pipeline's databases before it runs: the columns of its query (LIMIT 0) and its
 * Postgres target's columns and unique keys. Everything runs on read sessions of the connection
 * (read-session.ts), the user's query as one statement with a short timeout.
 */
import type pg from 'pg';
import type { ColumnInfo, DefinitionInspector, TableInfo } from '../../core/ports.ts';
import type { ConnectionRegistry } from './connections.ts';
import { quoteTable } from './identifiers.ts';
import { queryFields, withConnectionReadSession } from './read-session.ts';
import { statementBody } from './page-query.ts';

/** A check answers quickly or not at all: the pipeline is still created, with a warning. */
const CHECK_TIMEOUT_MS = 5_000;

export function createPgInspector(connections: ConnectionRegistry): DefinitionInspector {
  const session = <T>(connection: string, work: (client: pg.PoolClient) => Promise<T>) =>
    withConnectionReadSession(connections, connection, async (client) => {
      await client.query(`SET statement_timeout = ${CHECK_TIMEOUT_MS}`);
      return await work(client);
    });

  return {
    async queryColumns(connection, query) {
      const body = statementBody(query);
      return await session(connection, async (client) => {
        const fields = await queryFields(client, body);
        const { rows } = await client.query<{ type: string }>(
          'SELECT format_type(t.oid, t.mod) AS type FROM unnest($1::oid[], $2::int[]) WITH ORDINALITY AS t(oid, mod, n) ORDER BY n',
          [fields.map((f) => f.dataTypeID), fields.map((f) => f.dataTypeModifier)],
        );
        return fields.map((field, i): ColumnInfo => ({ name: field.name, type: rows[i]!.type }));
      });
    },

    async table(connection, table) {
      return await session(connection, async (client) => {
        const { rows } = await client.query<{ oid: string | null }>('SELECT to_regclass($1)::oid::text AS oid', [quoteTable(table)]);
        const oid = rows[0]?.oid;
        if (!oid) {
          const [schema, name] = table.includes('.') ? table.split('.') : [null, table];
          const similar = await client.query<{ name: string }>(
            `SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p') AND lower(c.relname) = lower($2) AND ($1::text IS NULL OR lower(n.nspname) = lower($1))
             ORDER BY 1 LIMIT 3`,
            [schema, name],
          );
          return { found: null, similar: similar.rows.map((r) => r.name) };
        }
        const shape = await client.query<{ name: string; columns: string[]; unique_keys: string[][] | null }>(
          `SELECT c.oid::regclass::text AS name,
             (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
             (SELECT json_agg(k.cols) FROM (
                SELECT array_agg(a.attname::text ORDER BY a.attname) AS cols FROM pg_index i
                JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
                WHERE i.indrelid = c.oid AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
                GROUP BY i.indexrelid) k) AS unique_keys
           FROM pg_class c WHERE c.oid = $1::oid`,
          [oid],
        );
        const found = shape.rows[0]!;
        return { found: { name: found.name, columns: found.columns, uniqueKeys: found.unique_keys ?? [] } satisfies TableInfo, similar: [] };
      });
    },
  };
}
