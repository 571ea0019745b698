/**
 * Named PostgreSQL connections and their pools. `default` is the platform's own database (the
 * state); other names come from ETL_CONNECTION_<NAME> (or SSM in the cloud, see runtime/secrets.ts).
 *
 * Pools, one set per connection per process (a Lambda container or the local stack):
 * - the state pool (`default` only): the platform's own queries and writes to `default` targets;
 * - a read pool per connection: user SQL only. Its sessions start read-only with a statement
 *   timeout, and every session is reset (DISCARD ALL) after each use or closed, so nothing a query
 *   does to its session (settings, role, temp objects, advisory locks) reaches the next query,
 *   another pipeline, or the platform's own statements (which never use these sessions);
 * - a write pool per non-default connection: the upserts of Postgres targets (no user SQL).
 */
import pg from 'pg';
import { ConnectionLostError } from '../../core/errors.ts';
import { DEFAULT_CONNECTION } from '../../core/pipeline.ts';
import type { ConnectionDirectory, ConnectionInfo } from '../../core/ports.ts';

export interface PoolSizes {
  /** The state pool (DB_POOL_SIZE). */
  state: number;
  /** Each connection's read pool: a step reads one page at a time. */
  read: number;
  /** Each non-default connection's write pool. */
  write: number;
}

export const DEFAULT_POOL_SIZES: PoolSizes = { state: 4, read: 2, write: 2 };

export interface ConnectionRegistryOptions {
  /** The state database; also the connection named `default`. */
  stateUrl: string;
  /** Other connections by lower-case name. */
  named?: Record<string, string>;
  /** Statement timeout of every read of user SQL. */
  readStatementTimeoutMs: number;
  sizes?: Partial<PoolSizes>;
  /** Idle connections lost (server restart) are reported here; they must not crash the process. */
  onIdleError?: (error: Error, connection: string) => void;
}

export interface ConnectionRegistry extends ConnectionDirectory {
  readonly statePool: pg.Pool;
  /** Sessions for user SQL on `name` (read-only, statement timeout, reset after each use). */
  readPool(name: string): pg.Pool;
  /** Sessions for the platform's writes into `name` (the state pool for `default`). */
  writePool(name: string): pg.Pool;
  /** "warehouse (postgres@127.0.0.1:5432/wh)": names the connection in errors, never the password. */
  label(name: string): string;
  close(): Promise<void>;
}

const CHECK_TIMEOUT_MS = 2_000;

export function createConnectionRegistry(options: ConnectionRegistryOptions): ConnectionRegistry {
  const sizes = { ...DEFAULT_POOL_SIZES, ...options.sizes };
  const urls = new Map<string, string>([[DEFAULT_CONNECTION, options.stateUrl], ...Object.entries(options.named ?? {})]);
  const readPools = new Map<string, pg.Pool>();
  const writePools = new Map<string, pg.Pool>();

  const newPool = (name: string, max: number, sessionOptions: string): pg.Pool => {
    const pool = new pg.Pool({ connectionString: urlOf(name), max, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 10_000, options: sessionOptions });
    pool.on('error', (error) => options.onIdleError?.(error, name));
    return pool;
  };
  const urlOf = (name: string): string => {
    const url = urls.get(name);
    if (url === undefined) throw new ConnectionLostError(`connection "${name}" is not configured here (known: ${[...urls.keys()].join(', ')})`);
    return url;
  };

  // The platform's sessions are read-write whatever the database or role default says.
  const statePool = newPool(DEFAULT_CONNECTION, sizes.state, '-c TimeZone=UTC -c default_transaction_read_only=off');

  const registry: ConnectionRegistry = {
    statePool,
    names: () => [...urls.keys()],
    label(name) {
      const info = describeUrl(name, urls.get(name) ?? '');
      return `${name} (${info.user}@${info.host}/${info.database})`;
    },
    readPool(name) {
      let pool = readPools.get(name);
      if (!pool) {
        const timeout = Math.trunc(options.readStatementTimeoutMs);
        pool = newPool(name, sizes.read, `-c TimeZone=UTC -c default_transaction_read_only=on -c statement_timeout=${timeout} -c idle_in_transaction_session_timeout=${timeout}`);
        readPools.set(name, pool);
      }
      return pool;
    },
    writePool(name) {
      if (name === DEFAULT_CONNECTION) return statePool;
      let pool = writePools.get(name);
      if (!pool) {
        pool = newPool(name, sizes.write, '-c TimeZone=UTC -c default_transaction_read_only=off');
        writePools.set(name, pool);
      }
      return pool;
    },
    async check(): Promise<ConnectionInfo[]> {
      return await Promise.all([...urls.entries()].map(async ([name, url]) => ({ ...describeUrl(name, url), ok: await reachable(url) })));
    },
    async close() {
      const pools = [statePool, ...readPools.values(), ...writePools.values()];
      readPools.clear();
      writePools.clear();
      await Promise.all(pools.map((pool) => pool.end().catch(() => undefined)));
    },
  };
  return registry;
}

/** What may be shown of a connection: never the password or the full URL. */
export function describeUrl(name: string, url: string): Omit<ConnectionInfo, 'ok'> {
  try {
    const parsed = new URL(url);
    const host = parsed.hostname ? `${parsed.hostname}${parsed.port ? `:${parsed.port}` : ''}` : (parsed.searchParams.get('host') ?? '');
    return { name, host, database: decodeURIComponent(parsed.pathname.replace(/^\//, '')), user: decodeURIComponent(parsed.username) };
  } catch {
    return { name, host: '', database: '', user: '' };
  }
}

/** A cheap check with a short timeout: connect and `SELECT 1` on a throw-away client. */
async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CHECK_TIMEOUT_MS, statement_timeout: CHECK_TIMEOUT_MS });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}
