/**
 * A pipeline's SQL cannot reach beyond its own read. Each hostile query changes its session
 * (settings, role, temp objects, advisory locks) or smuggles extra statements; after it, other
 * pipelines on the same connection, reading through the very same pooled session (read pool of
 * one), must run exactly as before, and the platform must still record everything.
 */
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { oneStatement } from '../../lib/adapters/pg/read-session.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { failRunUpdates } from '../support/fault-harness.ts';
import { createItems, sameRows } from '../support/items.ts';
import { startRunHarness, type RunHarness } from '../support/run-harness.ts';

const ITEMS = 250;

describe('user SQL isolation', () => {
  let state: TestDatabase;
  let source: TestDatabase;
  let harness: RunHarness;
  const nobody = `etl_test_nobody_${process.pid}`;

  beforeAll(async () => {
    [state, source] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    await createItems(source.pool, 'items', ITEMS);
    await source.pool.query('CREATE SEQUENCE items_seq');
    await source.pool.query(`DO $$ BEGIN CREATE ROLE ${nobody} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
    await state.pool.query('CREATE TABLE items_copy (id integer PRIMARY KEY, name text NOT NULL, updated timestamptz NOT NULL)');
    harness = await startRunHarness({ databaseUrl: state.url, connections: { app: source.url }, settings: { CONNECTION_POOL_SIZE: '1' } });
  });
  afterAll(async () => {
    await harness?.stop();
    await Promise.all([state?.drop(), source?.drop()]);
  });
  beforeEach(async () => {
    await state.pool.query('TRUNCATE etl.pipelines CASCADE; TRUNCATE items_copy');
  });

  const pipeline = (name: string, query: string, extra: Record<string, unknown> = {}) =>
    harness.engine.manage.create({
      name,
      mode: 'full',
      batch_size: 100,
      source: { query, connection: 'app' },
      target: { type: 'postgres', table: 'items_copy', key: ['id'] },
      ...extra,
    });

  /** A well-behaved pipeline on the same connection: it must succeed and copy everything. */
  async function expectOthersUnaffected(name: string): Promise<void> {
    await state.pool.query('TRUNCATE items_copy');
    const good = await pipeline(`${name}_after`, 'SELECT id, name, updated FROM items');
    const run = await harness.runToEnd(good.id);
    expect(run, `${name}: the next pipeline`).toMatchObject({ status: 'SUCCEEDED', rows_read: ITEMS, rows_written: ITEMS });
    expect(await sameRows(source.pool, 'items', state.pool, 'items_copy')).toEqual({ missing: 0, extra: 0, rows: ITEMS });
  }

  const sessionChanges: [string, string][] = [
    ['statement_timeout', "SELECT id, name, updated FROM items WHERE set_config('statement_timeout', '1', false) IS NOT NULL"],
    ['search_path', "SELECT id, name, updated FROM items WHERE set_config('search_path', 'pg_catalog', false) IS NOT NULL"],
    ['role', `SELECT id, name, updated FROM items WHERE set_config('role', '${nobody}', false) IS NOT NULL`],
    ['read_only_off', "SELECT id, name, updated FROM items WHERE set_config('default_transaction_read_only', 'off', false) IS NOT NULL"],
    ['read_only_on', "SELECT id, name, updated FROM items WHERE set_config('default_transaction_read_only', 'on', false) IS NOT NULL"],
    ['advisory_lock', 'SELECT id, name, updated FROM items WHERE pg_advisory_lock(4242) IS NOT NULL'],
  ];

  for (const [what, query] of sessionChanges) {
    it(`a query that changes its session (${what}) leaves other pipelines and the platform unaffected`, async () => {
      const hostile = await pipeline(`hostile_${what}`, query);
      const run = await harness.runToEnd(hostile.id);
      expect(run).toMatchObject({ status: 'SUCCEEDED', rows_read: ITEMS });
      await expectOthersUnaffected(what);
    });
  }

  it('a session-level advisory lock taken by a query is released with its session reset', async () => {
    const hostile = await pipeline('hostile_lock', 'SELECT id, name, updated FROM items WHERE pg_advisory_lock(4343) IS NOT NULL');
    expect((await harness.runToEnd(hostile.id)).status).toBe('SUCCEEDED');
    const { rows } = await source.pool.query<{ free: boolean }>('SELECT pg_try_advisory_lock(4343) AS free');
    expect(rows[0]!.free).toBe(true);
    await source.pool.query('SELECT pg_advisory_unlock_all()');
  });

  it('a query cannot write even after another query turned read-only off for its session', async () => {
    const turnOff = await pipeline('turn_off', "SELECT id, name, updated FROM items WHERE set_config('default_transaction_read_only', 'off', false) IS NOT NULL");
    expect((await harness.runToEnd(turnOff.id)).status).toBe('SUCCEEDED');
    const writer = await pipeline('writer', "SELECT id, name, updated FROM items WHERE nextval('items_seq') > 0");
    const run = await harness.runToEnd(writer.id);
    expect(run.status).toBe('FAILED');
    expect(run.error?.name).toBe('SourceQueryError');
    expect(run.error?.message).toContain('read-only transaction');
    const { rows } = await source.pool.query<{ is_called: boolean }>('SELECT is_called FROM items_seq');
    expect(rows[0]!.is_called).toBe(false);
  });

  it('a temp table made by a query does not shadow the real table for the next read', async () => {
    await source.pool.query(`CREATE OR REPLACE FUNCTION shadow_items() RETURNS boolean LANGUAGE plpgsql AS $$
      BEGIN
        CREATE TEMP TABLE IF NOT EXISTS items (id integer, name text, updated timestamptz);
        RETURN true;
      END $$`);
    const hostile = await pipeline('hostile_temp', 'SELECT id, name, updated FROM items WHERE shadow_items()');
    const run = await harness.runToEnd(hostile.id);
    // Read-only sessions refuse the CREATE; were it allowed, the reset would drop the table.
    expect(run.status).toBe('FAILED');
    expect(run.error?.message).toContain('read-only transaction');
    await expectOthersUnaffected('temp');
  });

  const smuggled = [
    'SELECT id, name, updated FROM items; CREATE TABLE pwned (x int)',
    'SELECT id, name, now() AS updated FROM items) AS src LIMIT 0; COMMIT; CREATE TABLE pwned (x int); SELECT * FROM (SELECT 1 AS id',
    "SELECT id, name, updated FROM items WHERE name <> ''; -- ok\nDROP TABLE items",
  ];

  it('refuses a query of several statements, or one that closes its wrapper, when the pipeline is defined', async () => {
    for (const query of smuggled) {
      await expect(pipeline('smuggler', query), query).rejects.toThrow(/^source\.query: (must be one statement|has a "\)" without a matching "\(")/);
      const tasks = { name: 'smuggler_plan', mode: 'full', batch_size: 10, tasks: [{ type: 'sql_reader', name: 'read', query, connection: 'app' }, { type: 'writer', name: 'write', target: { type: 'postgres', table: 'items_copy', key: ['id'] } }] };
      await expect(harness.engine.manage.create(tasks), query).rejects.toThrow(/^tasks\[0\]\.query: /);
    }
  });

  it('never runs the extra statements of a stored multi-statement query, in full, incremental and task-plan readers', async () => {
    for (const [i, query] of smuggled.entries()) {
      const stored = await storeUnchecked(`stored_full_${i}`, 'full', { query, connection: 'app' }, null);
      const incremental = await storeUnchecked(`stored_inc_${i}`, 'incremental', { query, connection: 'app', incremental_key: 'updated', incremental_id_key: 'id' }, null);
      const plan = await storeUnchecked(`stored_plan_${i}`, 'full', { query, connection: 'app' }, 'tasks');
      for (const id of [stored, incremental, plan]) {
        const run = await harness.runToEnd(id);
        expect(run.status, query).toBe('FAILED');
        expect(run.error?.name).toBe('SourceQueryError');
      }
    }
    const pwned = await source.pool.query<{ t: string | null }>("SELECT to_regclass('public.pwned')::text AS t");
    expect(pwned.rows[0]!.t).toBeNull();
    expect((await source.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM items')).rows[0]!.n).toBe(ITEMS);
  });

  it('sends user SQL through the extended protocol, which runs one statement only', async () => {
    const client = new pg.Client({ connectionString: source.url });
    await client.connect();
    try {
      await expect(client.query(oneStatement('SELECT 1; CREATE TABLE pwned (x int)'))).rejects.toThrow('cannot insert multiple commands into a prepared statement');
      expect((await client.query<{ t: string | null }>("SELECT to_regclass('public.pwned')::text AS t")).rows[0]!.t).toBeNull();
    } finally {
      await client.end();
    }
  });

  it('records a state-side failure (a read-only state session, SQLSTATE 25006) and ends the run FAILED', async () => {
    const readOnly = await failRunUpdates(state.pool, { name: 'refuse_second_batch', when: 'NEW.batches = 2 AND OLD.batches = 1', sqlstate: '25006', message: 'cannot execute UPDATE in a read-only transaction' });
    try {
      const p = await pipeline('state_refuses', 'SELECT id, name, updated FROM items');
      const run = await harness.runToEnd(p.id);
      expect(run.status).toBe('FAILED');
      expect(run.error?.message).toContain('read-only transaction');
      expect((await harness.engine.manage.get(p.id)).status).toBe('FAILED');
    } finally {
      await readOnly.remove();
    }
  });

  /** A definition written straight into the state, as an older version could have stored it. */
  async function storeUnchecked(name: string, mode: string, sourceDefinition: Record<string, unknown>, as: 'tasks' | null): Promise<string> {
    const target = { type: 'postgres', table: 'items_copy', key: ['id'] };
    const { rows } = await state.pool.query<{ id: string }>(
      `INSERT INTO etl.pipelines (name, mode, batch_size, source, target) VALUES ($1, $2, 100, $3, $4) RETURNING id`,
      [name, mode, sourceDefinition, target],
    );
    const id = rows[0]!.id;
    if (as === 'tasks') {
      await state.pool.query(
        `INSERT INTO etl.pipeline_tasks (pipeline_id, position, kind, name, config) VALUES ($1, 0, 'sql_reader', 'read', $2), ($1, 1, 'writer', 'write', $3)`,
        [id, sourceDefinition, { target }],
      );
    }
    return id;
  }
});
