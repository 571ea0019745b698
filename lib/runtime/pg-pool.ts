/** One pg pool per container (Lambda reuses it across invocations). */
import pg from 'pg';
import { config, ConfigError } from './config.ts';
import { logger } from './logger-instance.ts';
import { runtimeSecrets } from './secrets.ts';

// Top-level await: the cold start reads the database URL (from SSM in the cloud; at once from
// DATABASE_URL locally), so getPool() stays synchronous for every handler.
const secrets = await runtimeSecrets();

let pool: pg.Pool | undefined;

export function getPool(): pg.Pool {
  if (!pool) {
    if (!secrets.databaseUrl) throw new ConfigError('DATABASE_URL (or DATABASE_URL_PARAM) is not set');
    pool = new pg.Pool({ connectionString: secrets.databaseUrl, max: config.dbPoolSize, idleTimeoutMillis: 30_000, options: '-c TimeZone=UTC' });
    // An idle client losing its connection (server restart, 57P01) must not crash the process.
    pool.on('error', (error) => logger.warn('idle database connection lost', { error }));
  }
  return pool;
}
