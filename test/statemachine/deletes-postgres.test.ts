/**
 * Deletes into a Postgres target, with the real state machine: soft deletes (source.deleted_flag)
 * in both modes and on both commit paths (target in the state database, target elsewhere), and
 * delete_missing at the end of a full run, which a failed or paused run never reaches.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startRunHarness, type RunHarness } from '../support/run-harness.ts';
import { failCheckpointOnce, failRunUpdates } from '../support/fault-harness.ts';

const SOURCE = `
  DROP TABLE IF EXISTS src;
  CREATE TABLE src (id integer PRIMARY KEY, name text, updated timestamptz NOT NULL, gone boolean);
  INSERT INTO src SELECT i, 'row ' || i, timestamptz '2024-01-01' + i * interval '1 minute', i <= 5 FROM generate_series(1, 100) AS i;`;
// The target has no `gone` column: the flag is never written.
const TARGET = 'DROP TABLE IF EXISTS dst; CREATE TABLE dst (id integer PRIMARY KEY, name text NOT NULL, updated timestamptz NOT NULL)';
/** A target already holding every source row, as a previous load would have left it. */
const FILLED = `INSERT INTO dst SELECT i, 'row ' || i, timestamptz '2024-01-01' + i * interval '1 minute' FROM generate_series(1, 100) AS i`;

describe('deletes into Postgres', () => {
  let state: TestDatabase;
  let other: TestDatabase;
  let harness: RunHarness;

  beforeAll(async () => {
    [state, other] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    harness = await startRunHarness({ databaseUrl: state.url, connections: { other: other.url } });
  });
  afterAll(async () => {
    await harness?.stop();
    await Promise.all([state?.drop(), other?.drop()]);
  });
  beforeEach(async () => {
    harness.clearIntercepts();
    await state.pool.query(`TRUNCATE etl.pipelines CASCADE; ${SOURCE}; ${TARGET}`);
    await other.pool.query(TARGET);
  });

  const dbOf = (connection: string) => (connection === 'other' ? other : state);
  const targetIds = async (connection: string) =>
    (await dbOf(connection).pool.query<{ id: number }>('SELECT id FROM dst ORDER BY id')).rows.map((r) => r.id);
  const liveIds = async () => (await state.pool.query<{ id: number }>('SELECT id FROM src WHERE gone IS NOT TRUE ORDER BY id')).rows.map((r) => r.id);
  const body = (connection: string, extra: Record<string, unknown> = {}) => ({
    name: 'deletes',
    mode: 'full',
    batch_size: 30,
    source: { query: 'SELECT id, name, updated, gone FROM src', deleted_flag: 'gone' },
    target: { type: 'postgres', table: 'dst', key: ['id'], connection },
    ...extra,
  });
  const incremental = (connection: string) =>
    body(connection, { mode: 'incremental', source: { query: 'SELECT id, name, updated, gone FROM src', incremental_key: 'updated', incremental_id_key: 'id', deleted_flag: 'gone' } });

  for (const connection of ['default', 'other']) {
    describe(`target on connection ${connection}`, () => {
      it('incremental: a row whose flag turns true is deleted from the target and counted; a NULL flag writes the row', async () => {
        const pipeline = await harness.engine.manage.create(incremental(connection));
        const first = await harness.runToEnd(pipeline.id);
        // Rows 1-5 are flagged but were never in the target: nothing to delete.
        expect(first).toMatchObject({ status: 'SUCCEEDED', rows_read: 100, rows_written: 95, rows_deleted: 0 });
        expect(await targetIds(connection)).toEqual(await liveIds());

        await state.pool.query(`UPDATE src SET gone = (id <> 40), updated = updated + interval '1 day' WHERE id IN (10, 20, 30, 40)`);
        await state.pool.query(`UPDATE src SET gone = NULL WHERE id = 40`);
        const second = await harness.runToEnd(pipeline.id);
        expect(second).toMatchObject({ status: 'SUCCEEDED', rows_read: 4, rows_written: 1, rows_deleted: 3 });
        expect(await targetIds(connection)).toEqual(await liveIds());
        expect(await targetIds(connection)).not.toContain(10);
        expect(await targetIds(connection)).toContain(40);
        const shown = await harness.engine.runs.getRun(pipeline.id, second.id);
        expect(shown.rows_deleted).toBe(3);
      });

      it('full: flagged rows are deleted; running again deletes nothing and rewrites nothing', async () => {
        await dbOf(connection).pool.query(FILLED);
        const pipeline = await harness.engine.manage.create(body(connection));
        const first = await harness.runToEnd(pipeline.id);
        expect(first).toMatchObject({ status: 'SUCCEEDED', rows_read: 100, rows_written: 95, rows_deleted: 5 });
        expect(await targetIds(connection)).toEqual(await liveIds());
        const versions = async () => (await dbOf(connection).pool.query<{ v: string }>('SELECT string_agg(xmin::text, \',\' ORDER BY id) AS v FROM dst')).rows[0]!.v;
        const before = await versions();
        const again = await harness.runToEnd(pipeline.id);
        expect(again).toMatchObject({ status: 'SUCCEEDED', rows_read: 100, rows_deleted: 0 });
        expect(await versions()).toBe(before);
      });
    });
  }

  it('replays a batch of deletes whose checkpoint failed after the target committed: the replay changes nothing and counts nothing', async () => {
    await other.pool.query(FILLED);
    const crash = await failCheckpointOnce(state.pool, 1);
    try {
      const pipeline = await harness.engine.manage.create(body('other'));
      const run = await harness.runToEnd(pipeline.id);
      // The first batch (rows 1-30, 5 flagged) committed its deletes in the other database, then its
      // checkpoint failed; the replay found the keys gone. rows_deleted counts what committed batches
      // removed, so the lost attempt's 5 are not counted (README, "rows_deleted").
      expect(run).toMatchObject({ status: 'SUCCEEDED', rows_read: 100, rows_written: 95, rows_deleted: 0, retries: 1 });
      expect(await targetIds('other')).toEqual(await liveIds());
    } finally {
      await crash.remove();
    }
  });

  it('fails a batch in which one key is both deleted and written, as a repeated key, and writes nothing of it', async () => {
    await state.pool.query(`ALTER TABLE dst ADD COLUMN rid integer`);
    const query = `SELECT id AS rid, id, name, updated, gone FROM src UNION ALL SELECT 1000, 7, 'again', now(), true`;
    const pipeline = await harness.engine.manage.create(body('default', { source: { query, incremental_id_key: 'rid', deleted_flag: 'gone' }, batch_size: 500 }));
    const run = await harness.runToEnd(pipeline.id);
    expect(run).toMatchObject({ status: 'FAILED', rows_written: 0, rows_deleted: 0, error: { name: 'KeyIntegrityError' } });
    expect(run.error?.message).toContain('(id) = "7" more than once');
    expect(await targetIds('default')).toEqual([]);
  });

  it('refuses a flag the query does not return, or that is not boolean, naming source.deleted_flag', async () => {
    await expect(harness.engine.manage.create(body('default', { source: { query: 'SELECT id, name, updated FROM src', deleted_flag: 'gone' } }))).rejects.toThrow(
      'source.deleted_flag: the query returns no column "gone"',
    );
    await expect(harness.engine.manage.create(body('default', { source: { query: 'SELECT id, name, updated, 1 AS gone FROM src', deleted_flag: 'gone' } }))).rejects.toThrow(
      'source.deleted_flag: "gone" is of type integer; it must be boolean',
    );
  });

  describe('delete_missing', () => {
    const missing = (connection: string, extra: Record<string, unknown> = {}) =>
      body(connection, { source: { query: 'SELECT id, name, updated FROM src' }, target: { type: 'postgres', table: 'dst', key: ['id'], connection, delete_missing: true }, ...extra });
    const strays = (connection: string) => dbOf(connection).pool.query(`INSERT INTO dst SELECT i, 'stray ' || i, now() FROM generate_series(1001, 1010) AS i`);
    const allIds = Array.from({ length: 100 }, (_, i) => i + 1);

    for (const connection of ['default', 'other']) {
      it(`removes exactly the rows the run did not read, counted in rows_deleted (target on ${connection})`, async () => {
        await strays(connection);
        const pipeline = await harness.engine.manage.create(missing(connection));
        const run = await harness.runToEnd(pipeline.id);
        expect(run).toMatchObject({ status: 'SUCCEEDED', rows_read: 100, rows_written: 100, rows_deleted: 10 });
        expect(await targetIds(connection)).toEqual(allIds);
      });
    }

    it('a failed run deletes nothing; the run that resumes its read keeps what the failed run read', async () => {
      await strays('default');
      await state.pool.query('UPDATE src SET name = NULL WHERE id = 50'); // dst.name is NOT NULL
      const pipeline = await harness.engine.manage.create(missing('default'));
      const failed = await harness.runToEnd(pipeline.id);
      expect(failed).toMatchObject({ status: 'FAILED', rows_written: 30, rows_deleted: 0 });
      expect(await targetIds('default')).toEqual([...allIds.slice(0, 30), ...Array.from({ length: 10 }, (_, i) => 1001 + i)]);

      await state.pool.query(`UPDATE src SET name = 'fixed' WHERE id = 50`);
      const resumed = await harness.runToEnd(pipeline.id);
      expect(resumed).toMatchObject({ status: 'SUCCEEDED', resumed_from: failed.id, rows_read: 70, rows_deleted: 10 });
      expect(await targetIds('default')).toEqual(allIds);
    });

    it('a paused run deletes nothing until it resumes and succeeds', async () => {
      await strays('other');
      const pipeline = await harness.engine.manage.create(missing('other', { batch_size: 10 }));
      harness.delayBatches(50);
      const { run_id } = await harness.engine.runs.requestRun(pipeline.id);
      await harness.until(async () => (await harness.engine.runs.getRun(pipeline.id, run_id)).batches >= 2, 'two batches');
      await harness.engine.runs.requestPause(pipeline.id);
      const paused = await harness.waitForRun(pipeline.id, run_id, ['PAUSED']);
      expect(paused.rows_deleted).toBe(0);
      expect((await targetIds('other')).filter((id) => id > 1000)).toHaveLength(10);
      harness.clearIntercepts();

      const done = await harness.runToEnd(pipeline.id);
      expect(done).toMatchObject({ id: run_id, status: 'SUCCEEDED', rows_read: 100, rows_deleted: 10 });
      expect(await targetIds('other')).toEqual(allIds);
    });

    it('a retried CompleteRun deletes once and keeps the count', async () => {
      await strays('other');
      const lostCompletion = await failRunUpdates(state.pool, {
        name: 'fail_completion',
        when: "NEW.status = 'SUCCEEDED' AND OLD.status = 'RUNNING'",
        sqlstate: '08006',
        message: 'injected: the connection died while recording the run',
        once: true,
      });
      try {
        const pipeline = await harness.engine.manage.create(missing('other'));
        // A row added after the sweep, before the retry: the retry must not delete it.
        harness.intercept('completeRun', async (input, real) => {
          await other.pool.query(`INSERT INTO dst VALUES (2000, 'after the sweep', now()) ON CONFLICT DO NOTHING`);
          return await real(input);
        });
        const run = await harness.runToEnd(pipeline.id);
        expect(run).toMatchObject({ status: 'SUCCEEDED', rows_deleted: 11 });
        expect(await targetIds('other')).toEqual([...allIds, 2000]);
      } finally {
        await lostCompletion.remove();
      }
    });
  });
});
