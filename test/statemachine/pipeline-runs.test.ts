import { beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/database.ts';
import { useSeededHarness } from '../support/seeded-harness.ts';
import { filmDimFull, filmDimIncremental, targetDiff } from '../support/film-dim.ts';
import { startRunHarness, type RunHarness } from '../support/run-harness.ts';

describe('pipeline runs on the real state machine definition', () => {
  const fixture = useSeededHarness({ films: 500 });
  let db: TestDatabase;
  let harness: RunHarness;
  beforeAll(() => {
    ({ db, harness } = fixture);
  });

  it('full load: the target equals the source, with run metrics', async () => {
    const pipeline = await harness.engine.manage.create(filmDimFull(64));
    const run = await harness.runToEnd(pipeline.id);
    expect(run).toMatchObject({ status: 'SUCCEEDED', rows_read: 500, rows_written: 500, batches: 8, retries: 0, error: null });
    expect(await targetDiff(db.pool)).toEqual({ missing: 0, extra: 0, targetRows: 500, sourceRows: 500 });
    expect((await harness.engine.manage.get(pipeline.id)).status).toBe('SUCCEEDED');
  });

  it('incremental: loads all and checkpoints, reruns read nothing, one touched film is read and written once', async () => {
    const pipeline = await harness.engine.manage.create(filmDimIncremental(70));
    const first = await harness.runToEnd(pipeline.id);
    expect(first).toMatchObject({ status: 'SUCCEEDED', rows_read: 500, rows_written: 500 });
    const checkpoint = await harness.engine.runs.getCheckpoint(pipeline.id);
    expect(checkpoint.last_value).not.toBeNull();

    const second = await harness.runToEnd(pipeline.id);
    expect(second).toMatchObject({ status: 'SUCCEEDED', rows_read: 0, rows_written: 0 });

    await db.pool.query(`UPDATE content.film_work SET title = 'Touched' WHERE id = (SELECT id FROM content.film_work ORDER BY id LIMIT 1)`);
    const third = await harness.runToEnd(pipeline.id);
    expect(third).toMatchObject({ status: 'SUCCEEDED', rows_read: 1, rows_written: 1 });
    expect(await targetDiff(db.pool)).toMatchObject({ missing: 0, extra: 0 });
  });

  it('continue-as-new every 3 batches gives the same target as one long execution', async () => {
    const pipeline = await harness.engine.manage.create({ ...filmDimFull(25), name: 'short_budget' });
    const shortHarness = await startRunHarness({ databaseUrl: db.url, settings: { BATCHES_PER_EXECUTION: '3' } });
    try {
      const run = await shortHarness.runToEnd(pipeline.id);
      expect(run).toMatchObject({ status: 'SUCCEEDED', rows_read: 500, batches: 20 });
      expect(run.executions).toBe(7); // 20 batches, 3 per execution, plus the final empty check
      expect(await targetDiff(db.pool)).toEqual({ missing: 0, extra: 0, targetRows: 500, sourceRows: 500 });
    } finally {
      await shortHarness.stop();
    }
  });
});
