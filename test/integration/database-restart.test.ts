/**
 * A real database restart in the middle of a run: a throw-away embedded PostgreSQL cluster (not
 * the suite's shared one) is stopped and started again while batches are being read. The run
 * must ride it out on RunBatch's Retry and end with the target equal to the source.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateUp } from '../../lib/db/migrate.ts';
import { startEmbeddedPostgres, type RunningPostgres } from '../../tools/local/embedded-postgres.ts';
import { freePort } from '../../tools/local/processes.ts';
import { seedCatalogue } from '../../seeds/catalogue.ts';
import { applyWarehouseSchema } from '../../seeds/demo-schemas.ts';
import { FILM_DIM_QUERY, filmDimFull, targetDiff } from '../support/film-dim.ts';
import { sleep, startFaultHarness, type FaultHarness } from '../support/fault-harness.ts';

const FILMS = 300;

describe('a database restart in the middle of a run', () => {
  let root: string;
  let port: number;
  let server: RunningPostgres | undefined;
  let pool: pg.Pool;
  let harness: FaultHarness;
  const start = async () => startEmbeddedPostgres({ dataDir: path.join(root, 'data'), port, durable: false });

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'etl-restart-'));
    port = await freePort();
    server = await start();
    await server.ensureDatabase('etl');
    const client = new pg.Client({ connectionString: server.urlFor('etl') });
    await client.connect();
    try {
      await migrateUp(client);
    } finally {
      await client.end();
    }
    pool = new pg.Pool({ connectionString: server.urlFor('etl'), max: 4 });
    pool.on('error', () => undefined); // the restart ends idle connections too
    await seedCatalogue(pool, { films: FILMS });
    await applyWarehouseSchema(pool);
    // Retries spaced so that MaxAttempts covers a few seconds of downtime, as the definition's
    // exponential backoff does in production (about 30 s over its six retries).
    harness = await startFaultHarness({ databaseUrl: server.urlFor('etl'), retryIntervalMs: 800 });
  });
  afterAll(async () => {
    await harness?.stop();
    await pool?.end();
    await server?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('rides out the restart on retries; the target equals the source and no row is counted twice', async () => {
    // 100 ms a page: the server goes down while a batch read sleeps in its query, so that batch
    // fails after its attempt began and its next attempt is counted as a retry.
    const query = `${FILM_DIM_QUERY} WHERE (SELECT count(*) FROM pg_sleep(0.1)) = 1`;
    const pipeline = await harness.engine.manage.create({ ...filmDimFull(50), source: { query } });
    const { run_id } = await harness.engine.runs.requestRun(pipeline.id);
    await harness.until(async () => (await harness.engine.runs.getRun(pipeline.id, run_id)).batches >= 2, 'two committed batches');
    await harness.until(
      async () => (await pool.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'`)).rowCount,
      'a batch read in flight',
    );

    await server!.stop();
    server = undefined;
    await sleep(300);
    server = await start();

    const run = await harness.waitForRun(pipeline.id, run_id, ['SUCCEEDED', 'FAILED'], 60_000);
    expect(run).toMatchObject({ status: 'SUCCEEDED', rows_read: FILMS, rows_written: FILMS, batches: FILMS / 50, error: null });
    expect(run.retries).toBeGreaterThan(0);
    expect(await targetDiff(pool)).toEqual({ missing: 0, extra: 0, targetRows: FILMS, sourceRows: FILMS });
  });
});
