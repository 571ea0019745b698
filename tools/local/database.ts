/** The local stack's database: `DATABASE_URL` when given, else the embedded PostgreSQL. */
import path from 'node:path';
import pg from 'pg';
import { migrateUp } from '../../lib/db/migrate.ts';
import { startEmbeddedPostgres } from './embedded-postgres.ts';
import { localConfig } from './local-config.ts';

export interface LocalDatabase {
  url: string;
  embedded: boolean;
  stop(): Promise<void>;
}

export async function openLocalDatabase(log: (line: string) => void = () => undefined): Promise<LocalDatabase> {
  if (localConfig.databaseUrl) {
    return { url: localConfig.databaseUrl, embedded: false, stop: async () => undefined };
  }
  const server = await startEmbeddedPostgres({
    dataDir: path.join(localConfig.dataDir, 'postgres'),
    port: localConfig.embeddedPort,
    log,
  });
  await server.ensureDatabase(localConfig.embeddedDatabase);
  return { url: server.urlFor(localConfig.embeddedDatabase), embedded: true, stop: () => server.stop() };
}

/** Runs `work` with one connected client; always closes it. */
export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined); // a server shutdown (57P01) must not crash the process
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Runs `work` with a small pool (seeding loads on two connections at once); always closes it. */
export async function withPool<T>(url: string, work: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => undefined);
  try {
    return await work(pool);
  } finally {
    await pool.end();
  }
}

export async function migrateDatabase(url: string): Promise<string[]> {
  return await withClient(url, async (client) => (await migrateUp(client)).applied);
}
