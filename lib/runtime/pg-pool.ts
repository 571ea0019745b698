/** One pg pool per container (Lambda reuses it across invocations). */
import pg from 'pg';
import { config, requireSetting } from './config.ts';
import { logger } from './logger-instance.ts';

let pool: pg.Pool | undefined;

export function getPool(): pg.Pool {
  if (!pool) {
    pool = new pg.Pool({ connectionString: requireSetting('databaseUrl', 'DATABASE_URL'), max: config.dbPoolSize, idleTimeoutMillis: 30_000, options: '-c TimeZone=UTC' });
    // An idle client losing its connection (server restart, 57P01) must not crash the process.
    pool.on('error', (error) => logger.warn('idle database connection lost', { error }));
  }
  return pool;
}
