/** One pg pool per container (Lambda reuses it across invocations). */
import type pg from 'pg';
import { config, ConfigError } from './config.ts';
import { createPgPool } from './engine.ts';
import { logger } from './logger-instance.ts';
import { runtimeSecrets } from './secrets.ts';

// Top-level await: the cold start reads the database URL (from SSM in the cloud; at once from
// DATABASE_URL locally), so getPool() stays synchronous for every handler.
const secrets = await runtimeSecrets();

let pool: pg.Pool | undefined;

export function getPool(): pg.Pool {
  if (!pool) {
    if (!secrets.databaseUrl) throw new ConfigError('DATABASE_URL (or DATABASE_URL_PARAM) is not set');
    pool = createPgPool(secrets.databaseUrl, config, logger);
  }
  return pool;
}
