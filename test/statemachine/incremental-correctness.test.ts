import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/database.ts';
import { useSeededHarness } from '../support/seeded-harness.ts';
import { filmDimFull, filmDimIncremental, targetDiff } from '../support/film-dim.ts';
import type { RunHarness } from '../support/run-harness.ts';

describe('incremental and idempotency guarantees', () => {
  const fixture = useSeededHarness({ films: 300 });
  let db: TestDatabase;
  let harness: RunHarness;
  beforeAll(() => {
    ({ db, harness } = fixture);
  });

  it('loads every one of many rows sharing one incremental_key value across batch boundaries, once', async () => {
    // 61 films share one timestamp; batches of 7 cut that group many times.
    await db.pool.query(`UPDATE content.film_work SET modified = timestamptz '2025-06-01 12:00:00.123456+00'
                         WHERE id IN (SELECT id FROM content.film_work ORDER BY id LIMIT 61)`);
    const pipeline = await harness.engine.manage.create({ ...filmDimIncremental(7), name: 'ties' });
    const run = await harness.runToEnd(pipeline.id);
    expect(run).toMatchObject({ status: 'SUCCEEDED', rows_read: 300, rows_written: 300 });
    expect(await targetDiff(db.pool)).toEqual({ missing: 0, extra: 0, targetRows: 300, sourceRows: 300 });
    const again = await harness.runToEnd(pipeline.id);
    expect(again).toMatchObject({ rows_read: 0 });
  });

  it('loads a row committed late by a transaction that started before the checkpoint', async () => {
    const pipeline = await harness.engine.manage.create({ ...filmDimIncremental(50), name: 'late' });
    expect(await harness.runToEnd(pipeline.id)).toMatchObject({ status: 'SUCCEEDED', rows_read: 300 });

    const [lateFilm, earlyFilm] = (await db.pool.query<{ id: string }>('SELECT id FROM content.film_work ORDER BY id LIMIT 2')).rows.map((r) => r.id);
    const slowWriter = new pg.Client({ connectionString: db.url });
    await slowWriter.connect();
    try {
      // The slow writer's transaction starts first: its row is stamped with this earlier now().
      await slowWriter.query('BEGIN');
      await slowWriter.query(`UPDATE content.film_work SET title = 'Late title' WHERE id = $1`, [lateFilm]);
      await new Promise((resolve) => setTimeout(resolve, 50));
      // A later transaction commits first, with a newer timestamp.
      await db.pool.query(`UPDATE content.film_work SET title = 'Early title' WHERE id = $1`, [earlyFilm]);
      const whileOpen = await harness.runToEnd(pipeline.id);
      expect(whileOpen.status).toBe('SUCCEEDED');
      await slowWriter.query('COMMIT');
    } finally {
      await slowWriter.end();
    }
    const afterCommit = await harness.runToEnd(pipeline.id);
    expect(afterCommit.status).toBe('SUCCEEDED');
    const titles = await db.pool.query<{ film_id: string; title: string }>('SELECT film_id, title FROM analytics.film_dim WHERE film_id = ANY($1::uuid[])', [[lateFilm, earlyFilm]]);
    expect(Object.fromEntries(titles.rows.map((r) => [r.film_id, r.title]))).toEqual({ [lateFilm!]: 'Late title', [earlyFilm!]: 'Early title' });
    expect(await targetDiff(db.pool)).toMatchObject({ missing: 0, extra: 0 });
  });

  it('rewriting the same rows changes nothing in the target (no new row versions)', async () => {
    const pipeline = await harness.engine.manage.create({ ...filmDimFull(40), name: 'replay' });
    await harness.runToEnd(pipeline.id);
    const versions = async () => (await db.pool.query<{ v: string }>(`SELECT string_agg(film_id::text || ':' || xmin::text, ',' ORDER BY film_id) AS v FROM analytics.film_dim`)).rows[0]!.v;
    const before = await versions();
    const rerun = await harness.runToEnd(pipeline.id);
    expect(rerun).toMatchObject({ status: 'SUCCEEDED', rows_read: 300 });
    expect(await versions()).toBe(before);
  });

  it('replays a batch whose response was lost without duplicating or skipping rows', async () => {
    const pipeline = await harness.engine.manage.create({ ...filmDimFull(40), name: 'lost_response' });
    let lost = 0;
    harness.intercept('runBatch', async (input, real) => {
      const result = await real(input);
      if (lost < 2) {
        lost += 1;
        throw Object.assign(new Error('response lost after the batch committed'), { name: 'Lambda.Unknown' });
      }
      return result;
    });
    try {
      const run = await harness.runToEnd(pipeline.id);
      // Both lost batches had committed, so each retry read the next page: nothing was read twice,
      // and `retries` (re-attempts of a batch that did not commit) stays 0.
      expect(lost).toBe(2);
      expect(run).toMatchObject({ status: 'SUCCEEDED', rows_read: 300, rows_written: 300, batches: 8, retries: 0 });
      expect(await targetDiff(db.pool)).toEqual({ missing: 0, extra: 0, targetRows: 300, sourceRows: 300 });
    } finally {
      harness.clearIntercepts();
    }
  });
});
