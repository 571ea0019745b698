/**
 * The container's database connections (Lambda reuses them across invocations): the state pool
 * and, per named connection, a read pool for user SQL and a write pool for targets.
 */
import type { ConnectionRegistry } from '../adapters/pg/connections.ts';
import { config, ConfigError } from './config.ts';
import { createConnections } from './engine.ts';
import { logger } from './logger-instance.ts';
import { runtimeSecrets } from './secrets.ts';

// Top-level await: the cold start reads the database URLs (from SSM in the cloud; at once from
// DATABASE_URL and ETL_CONNECTION_<NAME> locally), so getConnections() stays synchronous.
const secrets = await runtimeSecrets();

let registry: ConnectionRegistry | undefined;

export function getConnections(): ConnectionRegistry {
  if (!registry) {
    if (!secrets.databaseUrl) throw new ConfigError('DATABASE_URL (or DATABASE_URL_PARAM) is not set');
    registry = createConnections(config, { stateUrl: secrets.databaseUrl, named: secrets.connectionUrls }, logger);
  }
  return registry;
}

/** The state database's pool. */
export function getPool() {
  return getConnections().statePool;
}
