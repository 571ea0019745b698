/**
 * Checking a client out of the pool for a transaction. While a client is checked out, the pool no
 * longer listens to its 'error' event; a connection that dies between two queries (the server
 * restarting, pg_terminate_backend, then a ROLLBACK written into the closed socket: ECONNRESET)
 * is reported there, and an unhandled 'error' event crashes the process: the Lambda container,
 * or the whole local stack where steps run in-process. The query that failed rejects on its own
 * and is classified where it ran, so the event is only absorbed; the pool discards the dead client
 * on release.
 */
import type pg from 'pg';
import { classifyPgError, type PgErrorSide } from './classify.ts';

const absorb = () => undefined;

export async function checkout(pool: pg.Pool, side: PgErrorSide, context = ''): Promise<pg.PoolClient> {
  const client = await pool.connect().catch((error: unknown) => Promise.reject(classifyPgError(error, side, context)));
  client.on('error', absorb);
  const release = client.release.bind(client);
  client.release = (destroy?: boolean | Error) => {
    client.removeListener('error', absorb);
    release(destroy);
  };
  return client;
}
