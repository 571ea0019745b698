import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateUp } from '../../lib/db/migrate.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

describe('migrations', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('are idempotent: running up on a migrated database applies nothing', async () => {
    const client = await db.pool.connect();
    try {
      const result = await migrateUp(client);
      expect(result.applied).toEqual([]);
      expect(result.alreadyApplied).toBeGreaterThanOrEqual(2);
    } finally {
      client.release();
    }
  });

  it('let the database refuse a second active run for one pipeline', async () => {
    const { rows } = await db.pool.query<{ id: string }>(
      `INSERT INTO etl.pipelines (name, mode, batch_size, source, target)
       VALUES ('p1', 'full', 10, '{}', '{}') RETURNING id`,
    );
    const pipelineId = rows[0]!.id;
    const insertRun = (status: string) =>
      db.pool.query(`INSERT INTO etl.pipeline_runs (pipeline_id, status, mode) VALUES ($1, $2, 'full')`, [pipelineId, status]);
    await insertRun('RUNNING');
    await expect(insertRun('PAUSED')).rejects.toMatchObject({ code: '23505' });
    await insertRun('SUCCEEDED'); // finished runs do not count
  });
});
