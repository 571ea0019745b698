/**
 * The demo's connections on the local PostgreSQL server, each with the least privilege it needs
 * (docs/SECURITY.md):
 * - `catalogue`: the movie catalogue in the state database, read through a login role that may
 *   only read schema `content` (no `etl`, not a superuser, read-only by default, no server files);
 *   it may see other sessions' transactions (pg_read_all_stats) for the late-commit horizon.
 * - `warehouse`: a second database holding analytics.film_dim, written through a role that owns
 *   only that schema.
 * The passwords are local demo values on a loopback-only server; production roles are created
 * by the operator (docs/SECURITY.md).
 */
import pg from 'pg';
import { applyCatalogueSchema, applyWarehouseSchema } from '../../seeds/demo-schemas.ts';
import { withClient } from './database.ts';

export const DEMO_READER = 'etl_catalogue_reader';
export const DEMO_WRITER = 'etl_warehouse_writer';
export const WAREHOUSE_DATABASE = 'warehouse';
const READER_PASSWORD = 'catalogue-reader-local';
const WRITER_PASSWORD = 'warehouse-writer-local';

export interface DemoConnections {
  catalogue: string;
  warehouse: string;
}

/** Creates (or updates) the roles and the warehouse database; returns the connections' URLs. */
export async function prepareDemoConnections(stateUrl: string): Promise<DemoConnections> {
  const state = new URL(stateUrl);
  const stateDatabase = state.pathname.slice(1);
  await withClient(stateUrl, async (client) => {
    await applyCatalogueSchema(client);
    await ensureRole(client, DEMO_READER, READER_PASSWORD);
    await ensureRole(client, DEMO_WRITER, WRITER_PASSWORD);
    await client.query(`ALTER ROLE ${DEMO_READER} SET default_transaction_read_only = on`);
    await client.query(`GRANT pg_read_all_stats TO ${DEMO_READER}`);
    await client.query(`GRANT CONNECT ON DATABASE ${pg.escapeIdentifier(stateDatabase)} TO ${DEMO_READER}`);
    await client.query(`GRANT USAGE ON SCHEMA content TO ${DEMO_READER}`);
    await client.query(`GRANT SELECT ON ALL TABLES IN SCHEMA content TO ${DEMO_READER}`);
    await client.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA content GRANT SELECT ON TABLES TO ${DEMO_READER}`);
    // The platform's schema is off limits (it is not granted; make that explicit against a PUBLIC grant).
    await client.query(`REVOKE ALL ON SCHEMA etl FROM PUBLIC, ${DEMO_READER}`);
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [WAREHOUSE_DATABASE]);
    if (!exists.rowCount) await client.query(`CREATE DATABASE ${WAREHOUSE_DATABASE} OWNER ${DEMO_WRITER}`);
  });
  const warehouseAdmin = withDatabase(stateUrl, WAREHOUSE_DATABASE);
  await withClient(warehouseAdmin, async (client) => {
    await client.query(`SET ROLE ${DEMO_WRITER}`);
    await applyWarehouseSchema(client);
  });
  return {
    catalogue: withCredentials(withDatabase(stateUrl, stateDatabase), DEMO_READER, READER_PASSWORD),
    warehouse: withCredentials(warehouseAdmin, DEMO_WRITER, WRITER_PASSWORD),
  };
}

async function ensureRole(client: pg.Client, role: string, password: string): Promise<void> {
  const found = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
  const verb = found.rowCount ? 'ALTER' : 'CREATE';
  await client.query(`${verb} ROLE ${role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD ${pg.escapeLiteral(password)}`);
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

function withCredentials(url: string, user: string, password: string): string {
  const parsed = new URL(url);
  parsed.username = user;
  parsed.password = password;
  return parsed.toString();
}
