/**
 * Sessions for user SQL. Every statement that carries user SQL is sent through the extended
 * protocol (one statement, parameters apart) on a session of the connection's read pool, which
 * starts read-only with a statement timeout (connections.ts). After each use the session is reset
 * with DISCARD ALL, or destroyed when anything failed, so what a query did to its session never
 * reaches the next read, another pipeline, or a check.
 */
import type pg from 'pg';
import { checkout } from './checkout.ts';
import type { ConnectionRegistry } from './connections.ts';
import { classifyPgError } from './classify.ts';
import { sourceTypes } from './value-types.ts';

/** Runs `work` on one read session; errors are classified as the source's, naming `label`. */
export async function withReadSession<T>(pool: pg.Pool, label: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await checkout(pool, 'source', `connecting to ${label}`);
  let reusable = false;
  try {
    const result = await work(client);
    await client.query('DISCARD ALL');
    reusable = true;
    return result;
  } catch (error) {
    throw classifyPgError(error, 'source', `source query on ${label}`);
  } finally {
    client.release(reusable ? undefined : true);
  }
}

/** `withReadSession` on a named connection's read pool, its errors naming the connection. */
export function withConnectionReadSession<T>(connections: Pick<ConnectionRegistry, 'readPool' | 'label'>, name: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withReadSession(connections.readPool(name), connections.label(name), work);
}

/** The output columns of a user query (its body, without a trailing `;`), from running it with `LIMIT 0`. */
export async function queryFields(client: pg.PoolClient, body: string): Promise<pg.FieldDef[]> {
  return (await client.query(oneStatement(`SELECT * FROM (\n${body}\n) AS src LIMIT 0`))).fields;
}

/**
 * A statement that carries user SQL. node-postgres sends a query without parameters through the
 * simple protocol, which runs several `;`-separated statements; `queryMode: 'extended'` forces the
 * extended protocol, which accepts exactly one. (@types/pg does not declare the option yet.)
 */
export function oneStatement(text: string, values: unknown[] = []): pg.QueryConfig {
  return { text, values, types: sourceTypes, queryMode: 'extended' } as pg.QueryConfig;
}
