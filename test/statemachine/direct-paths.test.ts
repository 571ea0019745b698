/**
 * Plain Postgres-to-Postgres pipelines move their pages inside the databases: pushdown (one
 * INSERT ... SELECT) when source and target share a connection, COPY piped between sessions
 * otherwise. Each path must give the target the source's rows exactly, fail loudly on NULL or
 * repeated keys as the JavaScript path does, and keep the user's SQL from reaching beyond its
 * batch (session isolation, read-only where pushdown is off).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createItems, sameRows } from '../support/items.ts';
import { startRunHarness, type RunHarness } from '../support/run-harness.ts';

const ITEMS = 1000;
const TABLE = 'CREATE TABLE items_copy (id integer PRIMARY KEY, name text, updated timestamptz NOT NULL)';

describe('direct paths: pushdown and COPY', () => {
  let state: TestDatabase;
  let other: TestDatabase;
  let harness: RunHarness;
  const nobody = `etl_direct_nobody_${process.pid}`;

  beforeAll(async () => {
    [state, other] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    for (const db of [state, other]) {
      await createItems(db.pool, 'items', ITEMS);
      await db.pool.query('ALTER TABLE items ALTER COLUMN name DROP NOT NULL');
      // Values the COPY text format must escape, and NULLs outside the key.
      await db.pool.query(`UPDATE items SET name = CASE id % 5 WHEN 0 THEN E'tab\\there' WHEN 1 THEN E'line\\nbreak \\\\ back' WHEN 2 THEN 'quote '' "q"' WHEN 3 THEN NULL ELSE 'ünï ✓' END`);
      await db.pool.query(TABLE);
      await db.pool.query('CREATE SEQUENCE side_effects');
      // Keys that break keyset paging or the target key, one table per case.
      await db.pool.query(`CREATE TABLE null_keys AS SELECT * FROM items; INSERT INTO null_keys VALUES (NULL, 'no key', now())`);
      await db.pool.query(`CREATE TABLE repeated_keys AS SELECT * FROM items; INSERT INTO repeated_keys VALUES (500, 'again', now())`);
      await db.pool.query(`CREATE TABLE target_repeats AS SELECT id, id % 900 AS target_id, name, updated FROM items`);
    }
    await state.pool.query(`DO $$ BEGIN CREATE ROLE ${nobody} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
    // One state session and one write session: whatever a query leaves on a session, the next use meets it.
    harness = await startRunHarness({ databaseUrl: state.url, connections: { app: state.url, other: other.url }, settings: { DB_POOL_SIZE: '1', CONNECTION_POOL_SIZE: '1' } });
  });
  afterAll(async () => {
    await harness?.stop();
    await Promise.all([state?.drop(), other?.drop()]);
  });
  beforeEach(async () => {
    harness.clearIntercepts();
    await state.pool.query('TRUNCATE etl.pipelines CASCADE; TRUNCATE items_copy');
    await other.pool.query('TRUNCATE items_copy');
  });

  type Route = { name: string; source: string; target: string; pushdown?: boolean; targetDb: () => TestDatabase; sourceDb: () => TestDatabase };
  const routes: Route[] = [
    { name: 'COPY within the state database (default never pushes down)', source: 'default', target: 'default', targetDb: () => state, sourceDb: () => state },
    { name: 'pushdown on a named connection', source: 'app', target: 'app', targetDb: () => state, sourceDb: () => state },
    { name: 'COPY across databases', source: 'other', target: 'default', targetDb: () => state, sourceDb: () => other },
    { name: 'COPY into another database', source: 'default', target: 'other', targetDb: () => other, sourceDb: () => state },
    { name: 'COPY with pushdown off', source: 'default', target: 'default', pushdown: false, targetDb: () => state, sourceDb: () => state },
  ];

  const create = (route: Route, name: string, query: string, extra: Record<string, unknown> = {}) =>
    harness.engine.manage.create({
      name,
      mode: 'full',
      batch_size: 128,
      source: { query, connection: route.source },
      target: { type: 'postgres', table: 'items_copy', key: ['id'], connection: route.target, ...(route.pushdown === undefined ? {} : { pushdown: route.pushdown }) },
      ...extra,
    });

  for (const route of routes) {
    describe(route.name, () => {
      it('copies every row exactly (escapes, NULLs, time zones), and a rerun changes nothing', async () => {
        const pipeline = await create(route, 'copy_all', 'SELECT id, name, updated FROM items');
        const run = await harness.runToEnd(pipeline.id);
        expect(run).toMatchObject({ status: 'SUCCEEDED', rows_read: ITEMS, rows_written: ITEMS, batches: 8, error: null, batch_sizes: { '128': 8 } });
        expect(await sameRows(route.sourceDb().pool, 'items', route.targetDb().pool, 'items_copy')).toEqual({ missing: 0, extra: 0, rows: ITEMS });
        const before = await route.targetDb().pool.query<{ xmin: string }>('SELECT xmin::text FROM items_copy ORDER BY id');
        expect((await harness.runToEnd(pipeline.id)).status).toBe('SUCCEEDED');
        const after = await route.targetDb().pool.query<{ xmin: string }>('SELECT xmin::text FROM items_copy ORDER BY id');
        expect(after.rows).toEqual(before.rows); // unchanged rows are not rewritten
      });

      it('fails naming the column and count when a keyset column is NULL', async () => {
        const run = await harness.runToEnd((await create(route, 'null_keys', 'SELECT id, name, updated FROM null_keys')).id);
        expect(run.status).toBe('FAILED');
        expect(run.error).toMatchObject({ name: 'KeyIntegrityError' });
        expect(run.error?.message).toContain('1 row with a NULL "id"');
      });

      it('fails naming the value when a keyset value repeats within a page or across its end', async () => {
        const within = await harness.runToEnd((await create(route, 'repeat_within', 'SELECT id, name, updated FROM repeated_keys')).id);
        expect(within.status).toBe('FAILED');
        expect(within.error?.name).toBe('KeyIntegrityError');
        expect(within.error?.message).toContain('(id) = "500" more than once');
        // 500 is the last row of a 500-row page and the first of the next.
        const across = await harness.runToEnd((await create(route, 'repeat_across', 'SELECT id, name, updated FROM repeated_keys', { batch_size: 500 })).id);
        expect(across.status).toBe('FAILED');
        expect(across.error?.message).toContain('(id) = "500" more than once');
      });

      it('fails naming the value when a target key repeats within a batch, and writes nothing of it', async () => {
        await route.targetDb().pool.query('ALTER TABLE items_copy ADD COLUMN source_id integer');
        const pipeline = await create(route, 'target_repeats', 'SELECT target_id AS id, name, updated, id AS source_id FROM target_repeats', {
          mode: 'incremental',
          source: { query: 'SELECT target_id AS id, name, updated, id AS source_id FROM target_repeats', connection: route.source, incremental_key: 'updated', incremental_id_key: 'source_id' },
          target: { type: 'postgres', table: 'items_copy', key: ['id'], connection: route.target, ...(route.pushdown === undefined ? {} : { pushdown: route.pushdown }) },
          batch_size: 2000,
        });
        try {
          const run = await harness.runToEnd(pipeline.id);
          expect(run.status).toBe('FAILED');
          expect(run.error?.name).toBe('KeyIntegrityError');
          expect(run.error?.message).toMatch(/the batch for target items_copy has the key \(id\) = "\d+" more than once/);
          expect((await route.targetDb().pool.query('SELECT 1 FROM items_copy')).rowCount).toBe(0);
        } finally {
          await route.targetDb().pool.query('ALTER TABLE items_copy DROP COLUMN source_id');
        }
      });
    });
  }

  it('pushdown runs the query in the writing transaction; pushdown off, and the state database always, keep it read-only', async () => {
    const query = "SELECT id, name, updated FROM items WHERE nextval('side_effects') > 0";
    const pushed = await harness.runToEnd((await create(routes[1]!, 'pushed', query)).id);
    expect(pushed.status).toBe('SUCCEEDED');
    for (const [i, route] of [routes[4]!, routes[0]!].entries()) {
      const guarded = await harness.runToEnd((await create(route, `guarded_${i}`, query)).id);
      expect(guarded.status, route.name).toBe('FAILED');
      expect(guarded.error?.name).toBe('SourceQueryError');
      expect(guarded.error?.message).toContain('read-only transaction');
    }
  });

  const hostile: [string, string][] = [
    ['role for the transaction', `SELECT id, name, updated FROM items WHERE set_config('role', '${nobody}', true) IS NOT NULL`],
    ['role for the session', `SELECT id, name, updated FROM items WHERE set_config('role', '${nobody}', false) IS NOT NULL`],
    ['search_path', "SELECT id, name, updated FROM items WHERE set_config('search_path', 'pg_catalog', false) IS NOT NULL"],
    ['statement_timeout', "SELECT id, name, updated FROM items WHERE set_config('statement_timeout', '1', false) IS NOT NULL"],
    ['lock_timeout', "SELECT id, name, updated FROM items WHERE set_config('lock_timeout', '1', true) IS NOT NULL"],
    ['advisory lock', 'SELECT id, name, updated FROM items WHERE pg_advisory_lock(4545) IS NOT NULL'],
  ];
  for (const [what, query] of hostile) {
    it(`a pushed-down query that changes its session (${what}) reaches neither the cursor advance nor the next pipeline`, async () => {
      const run = await harness.runToEnd((await create(routes[1]!, 'hostile', query)).id);
      expect(run).toMatchObject({ status: 'SUCCEEDED', rows_read: ITEMS, batches: 8 });
      const { rows } = await state.pool.query<{ free: boolean }>('SELECT pg_try_advisory_lock(4545) AS free');
      expect(rows[0]!.free).toBe(true);
      await state.pool.query('SELECT pg_advisory_unlock_all()');
      await state.pool.query('TRUNCATE items_copy');
      const next = await harness.runToEnd((await create(routes[1]!, 'after_hostile', 'SELECT id, name, updated FROM items')).id);
      expect(next).toMatchObject({ status: 'SUCCEEDED', rows_read: ITEMS });
      expect(await sameRows(state.pool, 'items', state.pool, 'items_copy')).toEqual({ missing: 0, extra: 0, rows: ITEMS });
    });
  }

  it('sizes batches by time when the pipeline gives no batch_size, and records the sizes', async () => {
    const { batch_size: _omitted, ...body } = { name: 'auto', mode: 'full', batch_size: 0, source: { query: 'SELECT id, name, updated FROM items' }, target: { type: 'postgres', table: 'items_copy', key: ['id'] } };
    const pipeline = await harness.engine.manage.create(body);
    expect(pipeline.batch_size).toBe('auto');
    const run = await harness.runToEnd(pipeline.id);
    expect(run).toMatchObject({ status: 'SUCCEEDED', rows_read: ITEMS, batches: 1, batch_sizes: { '20000': 1 } });
    expect((await harness.engine.manage.get(pipeline.id)).batch_size).toBe('auto');
  });
});
