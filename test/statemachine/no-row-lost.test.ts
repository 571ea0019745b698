/**
 * No row is lost silently: NULL and repeated keys fail the run naming the column or the value;
 * definition changes and resets make the next run read from the beginning; the wrapper copes with
 * how people write SQL. Each successful run ends with the target equal to the source.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { sameRows } from '../support/items.ts';
import { startRunHarness, type RunHarness } from '../support/run-harness.ts';

describe('no row lost silently', () => {
  let db: TestDatabase;
  let harness: RunHarness;

  beforeAll(async () => {
    db = await createTestDatabase();
    harness = await startRunHarness({ databaseUrl: db.url });
  });
  afterAll(async () => {
    await harness?.stop();
    await db?.drop();
  });
  beforeEach(async () => {
    harness.clearIntercepts();
    await db.pool.query(`
      TRUNCATE etl.pipelines CASCADE;
      DROP TABLE IF EXISTS src, dst, dst2;
      CREATE TABLE src (id integer, code text, name text, updated timestamptz);
      INSERT INTO src SELECT i, 'c' || i, 'row ' || i, timestamptz '2024-01-01' + i * interval '1 minute' FROM generate_series(1, 100) AS i;
      CREATE TABLE dst (id integer PRIMARY KEY, code text, name text NOT NULL, updated timestamptz);
      CREATE TABLE dst2 (id integer PRIMARY KEY, code text, name text, updated timestamptz);`);
  });

  const body = (extra: Record<string, unknown> = {}) => ({
    name: 'copy',
    mode: 'full',
    batch_size: 30,
    source: { query: 'SELECT id, code, name, updated FROM src' },
    target: { type: 'postgres', table: 'dst', key: ['id'] },
    ...extra,
  });
  const create = async (extra: Record<string, unknown> = {}) => await harness.engine.manage.create(body(extra));
  const same = (table = 'dst') => sameRows(db.pool, 'src', db.pool, table, 'id, code, name, updated');

  describe('key integrity', () => {
    it.each([30, 200])('fails a run whose paging key is NULL in 5 rows, naming the column and the count (batch %i)', async (batchSize) => {
      await db.pool.query("INSERT INTO src SELECT NULL, 'n' || i, 'null ' || i, now() FROM generate_series(1, 5) AS i");
      const pipeline = await create({ batch_size: batchSize });
      const run = await harness.runToEnd(pipeline.id);
      expect(run.status).toBe('FAILED');
      expect(run.error?.name).toBe('KeyIntegrityError');
      expect(run.error?.message).toContain('5 rows with a NULL "id"');
      const written = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM dst WHERE id IS NULL');
      expect(written.rows[0]!.n).toBe(0);
    });

    it('fails a run whose paging key repeats across a page boundary, naming the value', async () => {
      await db.pool.query("INSERT INTO src VALUES (30, 'dup', 'second 30', now())");
      const run = await harness.runToEnd((await create()).id);
      expect(run.status).toBe('FAILED');
      expect(run.error).toMatchObject({ name: 'KeyIntegrityError' });
      expect(run.error?.message).toContain('(id) = "30" more than once');
    });

    it('fails a run whose paging key repeats within a page, naming the value', async () => {
      await db.pool.query("INSERT INTO src VALUES (7, 'dup', 'second 7', now())");
      const run = await harness.runToEnd((await create({ batch_size: 500 })).id);
      expect(run.error?.message).toContain('(id) = "7" more than once');
      expect(run.error?.message).not.toMatch(/ON CONFLICT|src\.|__etl/);
    });

    it('fails a batch whose target key repeats although the paging key is unique, naming the value', async () => {
      await db.pool.query("UPDATE src SET code = 'c5' WHERE id = 6; CREATE UNIQUE INDEX ON dst2 (code)");
      const pipeline = await create({ source: { query: 'SELECT id, code, name, updated FROM src', incremental_id_key: 'id' }, target: { type: 'postgres', table: 'dst2', key: ['code'] } });
      const run = await harness.runToEnd(pipeline.id);
      expect(run.status).toBe('FAILED');
      expect(run.error?.message).toContain('the key (code) = "c5" more than once');
    });
  });

  describe('definition changes and resets', () => {
    it('a PATCH of the target after a failed full run reads from the beginning; a PATCH of batch_size alone resumes', async () => {
      await db.pool.query('UPDATE src SET name = NULL WHERE id = 50'); // dst.name is NOT NULL
      const pipeline = await create({ batch_size: 20 });
      const failed = await harness.runToEnd(pipeline.id);
      expect(failed).toMatchObject({ status: 'FAILED', rows_written: 40 });

      await harness.engine.manage.update(pipeline.id, { batch_size: 10 });
      const resumed = await harness.runToEnd(pipeline.id);
      expect(resumed).toMatchObject({ status: 'FAILED', resumed_from: failed.id, rows_read: 0 });

      await harness.engine.manage.update(pipeline.id, { target: { type: 'postgres', table: 'dst2', key: ['id'] } });
      const fresh = await harness.runToEnd(pipeline.id);
      expect(fresh).toMatchObject({ status: 'SUCCEEDED', resumed_from: null, rows_read: 100, rows_written: 100 });
      expect(await same('dst2')).toEqual({ missing: 0, extra: 0, rows: 100 });
    });

    it('a PATCH of the incremental key clears the checkpoint, so the next run reads everything again', async () => {
      const pipeline = await create({ mode: 'incremental', source: { query: 'SELECT id, code, name, updated FROM src', incremental_key: 'updated', incremental_id_key: 'id' } });
      expect((await harness.runToEnd(pipeline.id)).rows_read).toBe(100);
      expect(await harness.engine.store.getCheckpoint(pipeline.id)).toMatchObject({ last_id: '100' });
      await harness.engine.manage.update(pipeline.id, { source: { query: 'SELECT id, code, name, updated FROM src', incremental_key: 'id', incremental_id_key: 'code' } });
      expect(await harness.engine.store.getCheckpoint(pipeline.id)).toMatchObject({ last_value: null, last_id: null });
      const run = await harness.runToEnd(pipeline.id);
      expect(run).toMatchObject({ status: 'SUCCEEDED', rows_read: 100 });
    });

    it('a reset of a paused pipeline abandons its run and the next run reads from the beginning', async () => {
      const pipeline = await create({ batch_size: 10 });
      harness.delayBatches(100);
      const { run_id } = await harness.engine.runs.requestRun(pipeline.id);
      await harness.until(async () => (await harness.engine.runs.getRun(pipeline.id, run_id)).batches >= 2, 'two batches');
      await expect(harness.engine.manage.reset(pipeline.id)).rejects.toMatchObject({ name: 'ConflictError' });
      await harness.engine.runs.requestPause(pipeline.id);
      await harness.waitForRun(pipeline.id, run_id, ['PAUSED']);
      harness.clearIntercepts();

      const reset = await harness.engine.manage.reset(pipeline.id);
      expect(reset.status).toBe('IDLE');
      const abandoned = await harness.engine.runs.getRun(pipeline.id, run_id);
      expect(abandoned.status).toBe('FAILED');
      expect(abandoned.error?.message).toContain('abandoned by a reset');
      const next = await harness.runToEnd(pipeline.id);
      expect(next).toMatchObject({ status: 'SUCCEEDED', resumed_from: null, rows_read: 100 });
      expect(next.id).not.toBe(run_id);
      expect(await same()).toEqual({ missing: 0, extra: 0, rows: 100 });
    });
  });

  describe('checks when a pipeline is defined', () => {
    const refused = async (extra: Record<string, unknown>, message: string | RegExp) => {
      const error = await create(extra).then(() => new Error('created'), (e: unknown) => e as Error);
      expect(error.name).toBe('ValidationError');
      if (typeof message === 'string') expect(error.message).toContain(message);
      else expect(error.message).toMatch(message);
    };

    it('names source.query with the server message for a syntax error or an unknown column', async () => {
      await refused({ source: { query: 'SELECT id, FROM src' } }, /^source\.query: syntax error at or near "FROM"/);
      await refused({ source: { query: 'SELECT id, nope FROM src' } }, /^source\.query: column "nope" does not exist/);
    });

    it('requires the key columns in the result, without internal aliases in the message', async () => {
      await refused({ source: { query: 'SELECT code, name FROM src' } }, /^target\.key: the query returns no column "id"; its columns: code, name$/);
      await refused({ mode: 'incremental', source: { query: 'SELECT id, name FROM src', incremental_key: 'updated', incremental_id_key: 'id' } }, /^source\.incremental_key: the query returns no column "updated"/);
    });

    it('lists the supported incremental key types, and warns that the horizon covers timestamps only', async () => {
      await refused({ mode: 'incremental', source: { query: 'SELECT id, name, id > 5 AS flag FROM src', incremental_key: 'flag', incremental_id_key: 'id' } }, /^source\.incremental_key: "flag" is of type boolean; supported types: timestamp with time zone, .*uuid$/);
      const created = await create({ mode: 'incremental', source: { query: 'SELECT id, code, name, updated FROM src', incremental_key: 'id', incremental_id_key: 'code' } });
      expect(created.warnings).toEqual([expect.stringContaining('the late-commit horizon covers timestamp keys only') as unknown]);
    });

    it('requires the target table, suggesting the name that differs only by case', async () => {
      await db.pool.query('CREATE TABLE public.ta (id integer PRIMARY KEY)');
      await refused({ source: { query: 'SELECT id FROM src' }, target: { type: 'postgres', table: 'public.tA', key: ['id'] } }, 'target.table: table "public.tA" does not exist on connection "default" (did you mean "public.ta"?');
    });

    it('requires every returned column in the target and a unique key on exactly the key', async () => {
      await db.pool.query('CREATE TABLE narrow (id integer PRIMARY KEY, "Name" text); CREATE TABLE nokey (id integer, code text, name text, updated timestamptz)');
      await refused({ target: { type: 'postgres', table: 'narrow', key: ['id'] } }, /^target\.table: narrow has no column "code", which the query returns/);
      await refused({ source: { query: 'SELECT id, name FROM src' }, target: { type: 'postgres', table: 'narrow', key: ['id'] } }, 'has no column "name", which the query returns (it has "Name")');
      await refused({ target: { type: 'postgres', table: 'nokey', key: ['id'] } }, /^target\.key: nokey has no unique index or constraint on exactly \(id\)/);
      await refused({ target: { type: 'postgres', table: 'dst', key: ['id', 'code'] } }, /^target\.key: dst has no unique index or constraint on exactly \(id, code\)/);
    });

    it('creates the pipeline with a warning when the connection cannot be reached', async () => {
      const offline = await startRunHarness({ databaseUrl: db.url, connections: { down: 'postgres://u:pw@127.0.0.1:1/none' } });
      try {
        const created = await offline.engine.manage.create(body({ name: 'offline', source: { query: 'SELECT id FROM anywhere', connection: 'down' } }));
        expect(created.status).toBe('IDLE');
        expect(created.warnings).toEqual([expect.stringMatching(/^source\.connection: connection "down" could not be reached/) as unknown]);
      } finally {
        await offline.stop();
      }
    });
  });

  describe('the query wrapper', () => {
    it.each([
      ['a trailing line comment', 'SELECT id, code, name, updated FROM src -- all of them'],
      ['trailing semicolons and a comment', 'SELECT id, code, name, updated FROM src;; /* done */'],
      ['a CTE', 'WITH s AS (SELECT * FROM src) SELECT id, code, name, updated FROM s'],
      ["the query's own ORDER BY and LIMIT", 'SELECT id, code, name, updated FROM src ORDER BY name DESC LIMIT 1000'],
      ['a string with a semicolon and a parenthesis', "SELECT id, code, name, updated FROM src WHERE name <> ';)' -- ;)"],
    ])('copes with %s; the target equals the source', async (_what, query) => {
      const run = await harness.runToEnd((await create({ source: { query } })).id);
      expect(run).toMatchObject({ status: 'SUCCEEDED', rows_read: 100, rows_written: 100 });
      expect(await same()).toEqual({ missing: 0, extra: 0, rows: 100 });
    });
  });

  it('previews the columns, their types and the first rows, writing nothing', async () => {
    const pipeline = await create({ batch_size: 5 });
    const preview = await harness.engine.preview(pipeline.id);
    expect(preview.columns).toEqual([
      { name: 'id', type: 'integer' },
      { name: 'code', type: 'text' },
      { name: 'name', type: 'text' },
      { name: 'updated', type: 'timestamp with time zone' },
    ]);
    expect(preview.rows.map((row) => row.id)).toEqual([1, 2, 3, 4, 5]);
    expect(preview).toMatchObject({ rows_read: 5, rows_dropped: 0, warnings: [] });
    expect((await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM dst')).rows[0]!.n).toBe(0);
    expect((await harness.engine.runs.listRuns(pipeline.id)).runs).toHaveLength(0);
  });
});
