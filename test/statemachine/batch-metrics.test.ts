/**
 * RunBatch's EMF metrics over a real run: the real definition on the local endpoint, the real
 * step preset and engine on a test database, metrics turned on as in the cloud. Each attempt's
 * blob must add up to what the run records, a retried batch included.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { failCheckpointOnce } from '../support/fault-harness.ts';
import { startRunHarness, type RunHarness } from '../support/run-harness.ts';

const SOURCE = `
  DROP TABLE IF EXISTS src;
  CREATE TABLE src (id integer PRIMARY KEY, name text, gone boolean);
  INSERT INTO src SELECT i, 'row ' || i, i <= 5 FROM generate_series(1, 100) AS i;
  DROP TABLE IF EXISTS dst;
  CREATE TABLE dst (id integer PRIMARY KEY, name text NOT NULL);
  INSERT INTO dst SELECT i, 'row ' || i FROM generate_series(1, 100) AS i;`;


interface EmfBlob {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [key: string]: unknown;
}

describe('RunBatch metrics over a real run', () => {
  let db: TestDatabase;
  let harness: RunHarness;
  const out: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    harness = await startRunHarness({ databaseUrl: db.url, settings: { POWERTOOLS_METRICS_DISABLED: 'false', STAGE: 'test', POWERTOOLS_METRICS_NAMESPACE: 'EtlTest' } });
    await db.pool.query(SOURCE);
    // The first batch's commit fails once: its attempt is retried.
    await failCheckpointOnce(db.pool, 1);
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  afterAll(async () => {
    await harness?.stop();
    await db?.drop();
  });

  it('flushes one blob per attempt whose rows, deletes and retries add up to the run record', async () => {
    const pipeline = await harness.engine.manage.create({
      name: 'metered',
      mode: 'full',
      batch_size: 30,
      source: { query: 'SELECT id, name, gone FROM src', deleted_flag: 'gone' },
      target: { type: 'postgres', table: 'dst', key: ['id'] },
    });
    const run = await harness.runToEnd(pipeline.id);
    expect(run).toMatchObject({ status: 'SUCCEEDED', rows_read: 100, rows_written: 95, rows_deleted: 5, retries: 1, batches: 4 });

    const blobs = out.map((line) => JSON.parse(line) as EmfBlob).filter((line) => '_aws' in line && line.pipeline_id === pipeline.id);
    const figures = blobs.map(({ RowsRead, RowsWritten, RowsDeleted, Retries }) => ({ RowsRead, RowsWritten, RowsDeleted, Retries }));
    expect(figures).toEqual([
      // The failed commit: a failed attempt has its duration and retry count, no rows.
      { RowsRead: undefined, RowsWritten: undefined, RowsDeleted: undefined, Retries: 0 },
      { RowsRead: 30, RowsWritten: 25, RowsDeleted: 5, Retries: 1 },
      { RowsRead: 30, RowsWritten: 30, RowsDeleted: 0, Retries: 0 },
      { RowsRead: 30, RowsWritten: 30, RowsDeleted: 0, Retries: 0 },
      { RowsRead: 10, RowsWritten: 10, RowsDeleted: 0, Retries: 0 },
    ]);
    for (const blob of blobs) {
      expect(blob).toMatchObject({ service: 'etl', stage: 'test', run_id: run.id });
      expect(blob._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'EtlTest', Dimensions: [['service', 'stage']] });
      expect(blob.BatchDuration).toEqual(expect.any(Number));
    }
  });
});
