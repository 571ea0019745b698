/**
 * Named connections on the real state machine: sources and targets in their own databases (two
 * databases of the suite's cluster, and a second cluster on another port), a crash between the
 * target's commit and the checkpoint, an unreachable connection, and unknown names.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/core/errors.ts';
import { startEmbeddedPostgres, type RunningPostgres } from '../../tools/local/embedded-postgres.ts';
import { freePort } from '../../tools/local/processes.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startRunHarness, type RunHarness } from '../support/run-harness.ts';
import { failCheckpointOnce } from '../support/fault-harness.ts';
import { createItems, sameRows } from '../support/items.ts';

const ITEMS = 1000;

describe('named connections', () => {
  let state: TestDatabase;
  let source: TestDatabase;
  let target: TestDatabase;
  let remoteRoot: string;
  let remote: RunningPostgres;
  let remotePool: pg.Pool;
  let harness: RunHarness;
  let downUrl: string;

  beforeAll(async () => {
    [state, source, target] = await Promise.all([createTestDatabase(), createTestDatabase(), createTestDatabase()]);
    await createItems(source.pool, 'items', ITEMS);
    await target.pool.query('CREATE TABLE items_copy (id integer PRIMARY KEY, name text NOT NULL, updated timestamptz NOT NULL)');
    await state.pool.query('CREATE TABLE items_copy (id integer PRIMARY KEY, name text NOT NULL, updated timestamptz NOT NULL)');

    remoteRoot = await mkdtemp(path.join(os.tmpdir(), 'etl-remote-'));
    remote = await startEmbeddedPostgres({ dataDir: path.join(remoteRoot, 'data'), port: await freePort(), durable: false });
    await remote.ensureDatabase('app');
    remotePool = new pg.Pool({ connectionString: remote.urlFor('app'), max: 2 });
    remotePool.on('error', () => undefined); // the cluster is stopped at the end with sessions idle
    await createItems(remotePool, 'items', 300);

    // Nothing listens on this port; the password must never show in an error or a listing.
    downUrl = `postgres://reader:s3cret-pw@127.0.0.1:${await freePort()}/nowhere`;
    harness = await startRunHarness({
      databaseUrl: state.url,
      connections: { app: source.url, reports: target.url, remote: remote.urlFor('app'), down: downUrl },
    });
  });
  afterAll(async () => {
    await harness?.stop();
    await remotePool?.end();
    await remote?.stop();
    await rm(remoteRoot, { recursive: true, force: true });
    await Promise.all([state?.drop(), source?.drop(), target?.drop()]);
  });
  beforeEach(async () => {
    harness.clearIntercepts();
    await state.pool.query('TRUNCATE etl.pipelines CASCADE; TRUNCATE items_copy');
    await target.pool.query('TRUNCATE items_copy');
  });

  const copy = (name: string, from: string, to: string, extra: Record<string, unknown> = {}) => ({
    name,
    mode: 'full',
    batch_size: 100,
    source: { query: 'SELECT id, name, updated FROM items', connection: from },
    target: { type: 'postgres', table: 'items_copy', key: ['id'], connection: to },
    ...extra,
  });

  it('copies rows from one database into another; the target equals the source', async () => {
    const pipeline = await harness.engine.manage.create(copy('app_to_reports', 'app', 'reports'));
    const run = await harness.runToEnd(pipeline.id);
    expect(run).toMatchObject({ status: 'SUCCEEDED', rows_read: ITEMS, rows_written: ITEMS, batches: 10, error: null });
    expect(await sameRows(source.pool, 'items', target.pool, 'items_copy')).toEqual({ missing: 0, extra: 0, rows: ITEMS });
  });

  it('reads a source in a second PostgreSQL cluster on another port', async () => {
    const pipeline = await harness.engine.manage.create(copy('remote_to_state', 'remote', 'default'));
    const run = await harness.runToEnd(pipeline.id);
    expect(run).toMatchObject({ status: 'SUCCEEDED', rows_read: 300, rows_written: 300 });
    expect(await sameRows(remotePool, 'items', state.pool, 'items_copy')).toEqual({ missing: 0, extra: 0, rows: 300 });
  });

  it('replays a batch whose checkpoint failed after the target committed; the target still equals the source', async () => {
    // The third batch's cursor advance fails once in the state database, after the target (in
    // another database) committed that batch: a crash between the two commits.
    const crash = await failCheckpointOnce(state.pool, 3);
    try {
      const pipeline = await harness.engine.manage.create(
        copy('crash_between', 'app', 'reports', { mode: 'incremental', source: { query: 'SELECT id, name, updated FROM items', connection: 'app', incremental_key: 'updated', incremental_id_key: 'id' } }),
      );
      const committedBeforeReplay = await target.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM items_copy');
      expect(committedBeforeReplay.rows[0]!.n).toBe(0);
      const run = await harness.runToEnd(pipeline.id);
      expect(run).toMatchObject({ status: 'SUCCEEDED', rows_read: ITEMS, rows_written: ITEMS, retries: 1, error: null });
      expect(await crash.fired()).toBeGreaterThanOrEqual(1);
      expect(await sameRows(source.pool, 'items', target.pool, 'items_copy')).toEqual({ missing: 0, extra: 0, rows: ITEMS });
      const checkpoint = await harness.engine.store.getCheckpoint(pipeline.id);
      const last = await source.pool.query<{ id: number }>('SELECT id FROM items ORDER BY updated DESC, id DESC LIMIT 1');
      expect(checkpoint?.last_id).toBe(String(last.rows[0]!.id));
    } finally {
      await crash.remove();
    }
  });

  it('fails a run whose source cannot be reached with ConnectionLostError naming the connection, never its password', async () => {
    const pipeline = await harness.engine.manage.create(copy('from_down', 'down', 'default'));
    const run = await harness.runToEnd(pipeline.id);
    expect(run.status).toBe('FAILED');
    expect(run.error?.name).toBe('ConnectionLostError');
    expect(run.error?.message).toMatch(/down \(reader@127\.0\.0\.1:\d+\/nowhere\)/);
    expect(JSON.stringify(run)).not.toContain('s3cret-pw');
    expect((await harness.engine.manage.get(pipeline.id)).status).toBe('FAILED');
  });

  it('lists the connections with a reachability check and no secret', async () => {
    const { connections } = await harness.engine.manage.connections();
    expect(connections.map((c) => [c.name, c.ok])).toEqual([
      ['default', true],
      ['app', true],
      ['reports', true],
      ['remote', true],
      ['down', false],
    ]);
    const down = connections.find((c) => c.name === 'down');
    expect(down?.host).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(down).toMatchObject({ database: 'nowhere', user: 'reader' });
    expect(JSON.stringify(connections)).not.toMatch(/s3cret-pw|postgres:\/\//);
  });

  it('refuses an unknown connection with a 400-class error naming the field and the known names', async () => {
    await expect(harness.engine.manage.create(copy('unknown_source', 'nope', 'default'))).rejects.toThrow(ValidationError);
    await expect(harness.engine.manage.create(copy('unknown_source', 'nope', 'default'))).rejects.toThrow(
      'source.connection: unknown connection "nope" (known: default, app, reports, remote, down)',
    );
    await expect(harness.engine.manage.create(copy('unknown_target', 'app', 'elsewhere'))).rejects.toThrow('target.connection: unknown connection "elsewhere"');
    const tasks = {
      name: 'unknown_in_plan',
      mode: 'full',
      batch_size: 10,
      tasks: [
        { type: 'sql_reader', name: 'read', query: 'SELECT id FROM items', connection: 'app' },
        { type: 'writer', name: 'write', target: { type: 'postgres', table: 'items_copy', key: ['id'], connection: 'gone' } },
      ],
    };
    await expect(harness.engine.manage.create(tasks)).rejects.toThrow('tasks[1].target.connection: unknown connection "gone"');
  });

  it('refuses a target in the platform schema etl', async () => {
    const body = { ...copy('into_etl', 'app', 'default'), target: { type: 'postgres', table: 'etl.etl_state', key: ['pipeline_id'] } };
    await expect(harness.engine.manage.create(body)).rejects.toThrow(/^target\.table: must not be in the schemas etl/);
    const quoted = { ...body, target: { type: 'postgres', table: 'ETL.etl_state', key: ['pipeline_id'] } };
    await expect(harness.engine.manage.create(quoted)).rejects.toThrow(/^target\.table: must not be in the schemas etl/);
  });
});
