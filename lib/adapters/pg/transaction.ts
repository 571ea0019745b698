/**
 * The one transaction helper: BEGIN (with any SET LOCAL the caller needs), the work, COMMIT and
 * an optional session reset; on failure ROLLBACK, the error classified for its side, and the
 * session destroyed rather than reused (it may be in any state). A client is checked out through
 * checkout.ts, so a connection dying mid-transaction cannot crash the process.
 */
import type pg from 'pg';
import { checkout } from './checkout.ts';
import { classifyPgError, type PgErrorSide } from './classify.ts';

export interface TransactionOptions {
  /** Statements run right after BEGIN in the same round trip, e.g. `SET LOCAL lock_timeout = 5000`. */
  setLocal?: string[];
  /** Names what was being connected to, in a connection error. */
  connecting?: string;
  /** Prefixes the message of an error raised by the work. */
  context?: string;
  /** Runs after COMMIT, before the session goes back to the pool (e.g. DISCARD ALL after user SQL). */
  afterCommit?: (client: pg.PoolClient) => Promise<unknown>;
}

export async function withTransaction<T>(pool: pg.Pool, side: PgErrorSide, work: (client: pg.PoolClient) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  const client = await checkout(pool, side, options.connecting);
  let reusable = false;
  try {
    await client.query(['BEGIN', ...(options.setLocal ?? [])].join('; '));
    const result = await work(client);
    await client.query('COMMIT');
    await options.afterCommit?.(client);
    reusable = true;
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw classifyPgError(error, side, options.context);
  } finally {
    client.release(reusable ? undefined : true);
  }
}
