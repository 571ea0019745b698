/**
 * Deletes into a real Elasticsearch 9 and OpenSearch 2 node: bulk `delete` by _id from the sink
 * (a document already gone is not an error, so a replay changes nothing), and whole runs with
 * source.deleted_flag in both modes, where the flag never reaches a document.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSearchClient, createSearchSink, type SearchClient } from '../../lib/adapters/search/index.ts';
import type { SearchTarget } from '../../lib/core/pipeline.ts';
import type { Row } from '../../lib/core/ports.ts';
import type { SearchFlavour, SearchNode } from '../../tools/local/search-node/search-node.ts';
import type { TestDatabase } from '../support/database.ts';
import type { RunHarness } from '../support/run-harness.ts';
import { useSearchStack } from '../support/search-stack.ts';


async function documents(node: SearchNode, index: string): Promise<Array<{ _id: string; _source: Row }>> {
  await fetch(`${node.url}/${index}/_refresh`, { method: 'POST' });
  const response = await fetch(`${node.url}/${index}/_search`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ size: 10_000, sort: [{ id: 'asc' }] }),
  });
  if (!response.ok) throw new Error(`search ${index}: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { hits: { hits: Array<{ _id: string; _source: Row }> } }).hits.hits;
}

describe.each<SearchFlavour>(['elasticsearch', 'opensearch'])('deletes into %s', (flavour) => {
  const stack = useSearchStack(flavour, 'search-deletes');
  let client: SearchClient;
  let node: SearchNode;
  let db: TestDatabase;
  let harness: RunHarness;

  beforeAll(() => {
    ({ node, db, harness } = stack);
    client = createSearchClient({ flavour, url: node.url });
  });
  afterAll(async () => {
    await client?.close();
  });
  beforeEach(async () => {
    await db.pool.query(`
      TRUNCATE etl.pipelines CASCADE;
      DROP TABLE IF EXISTS src;
      CREATE TABLE src (id integer PRIMARY KEY, name text, updated timestamptz NOT NULL, gone boolean);
      INSERT INTO src SELECT i, 'row ' || i, timestamptz '2024-01-01' + i * interval '1 minute', i <= 5 FROM generate_series(1, 50) AS i;`);
  });

  const target = (index: string, extra: Partial<SearchTarget> = {}): SearchTarget => ({ type: flavour, index, id_field: 'id', ...extra });
  const rows = (ids: number[]) => ids.map((id) => ({ id, name: `row ${id}` }));
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
  const ids = async (index: string) => (await documents(node, index)).map((d) => Number(d._id));

  it('deletes documents by _id in the same write, and a replayed write (or a missing document) deletes nothing and fails nothing', async () => {
    const index = `deletes-sink-${randomUUID().slice(0, 8)}`;
    const sink = createSearchSink(target(index), { runId: randomUUID(), pipelineId: randomUUID(), mode: 'incremental', ownRunIds: async () => [] }, client);
    await sink.prepareRun();
    await sink.write(rows(range(1, 10)), async () => undefined);
    const commit = vi.fn(async () => undefined);
    await expect(sink.write(rows([11]), commit, rows([2, 4, 6]))).resolves.toEqual({ written: 1, deleted: 3 });
    expect(commit).toHaveBeenCalledWith(null, { deleted: 3 });
    expect(await ids(index)).toEqual([1, 3, 5, 7, 8, 9, 10, 11]);
    await expect(sink.write(rows([11]), commit, rows([2, 4, 6, 999]))).resolves.toEqual({ written: 1, deleted: 0 });
    expect(await ids(index)).toEqual([1, 3, 5, 7, 8, 9, 10, 11]);
  });

  it('incremental runs delete flagged rows from the index, count them, and never write the flag', async () => {
    const index = `deletes-inc-${flavour}`;
    const pipeline = await harness.engine.manage.create({
      name: 'search_deletes_inc',
      mode: 'incremental',
      batch_size: 20,
      source: { query: 'SELECT id, name, updated, gone FROM src', incremental_key: 'updated', incremental_id_key: 'id', deleted_flag: 'gone' },
      target: target(index),
    });
    expect(await harness.runToEnd(pipeline.id)).toMatchObject({ status: 'SUCCEEDED', rows_read: 50, rows_written: 45, rows_deleted: 0 });
    await db.pool.query(`UPDATE src SET gone = true, updated = updated + interval '1 day' WHERE id IN (10, 20)`);
    expect(await harness.runToEnd(pipeline.id)).toMatchObject({ status: 'SUCCEEDED', rows_read: 2, rows_written: 0, rows_deleted: 2 });
    const docs = await documents(node, index);
    expect(docs.map((d) => Number(d._id))).toEqual(range(6, 50).filter((id) => id !== 10 && id !== 20));
    expect(docs.every((d) => !('gone' in d._source))).toBe(true);
  });

  it('full runs delete flagged rows; running again deletes nothing more', async () => {
    const index = `deletes-full-${flavour}`;
    const sink = createSearchSink(target(index), { runId: randomUUID(), pipelineId: randomUUID(), mode: 'full', ownRunIds: async () => [] }, client);
    await sink.prepareRun();
    await sink.write(rows(range(1, 50)), async () => undefined); // an index holding every row
    const pipeline = await harness.engine.manage.create({
      name: 'search_deletes_full',
      mode: 'full',
      batch_size: 20,
      source: { query: 'SELECT id, name, updated, gone FROM src', deleted_flag: 'gone' },
      target: target(index),
    });
    expect(await harness.runToEnd(pipeline.id)).toMatchObject({ status: 'SUCCEEDED', rows_read: 50, rows_written: 45, rows_deleted: 5 });
    expect(await ids(index)).toEqual(range(6, 50));
    expect(await harness.runToEnd(pipeline.id)).toMatchObject({ status: 'SUCCEEDED', rows_read: 50, rows_deleted: 0 });
    expect(await ids(index)).toEqual(range(6, 50));
  });

  it('delete_missing with alias_reload leaves exactly the documents the run read', async () => {
    const index = `deletes-missing-${flavour}`;
    const body = {
      name: 'search_delete_missing',
      mode: 'full',
      batch_size: 20,
      source: { query: 'SELECT id, name, updated FROM src' },
      target: target(index, { alias_reload: true, delete_missing: true }),
    };
    const pipeline = await harness.engine.manage.create(body);
    expect((await harness.runToEnd(pipeline.id)).status).toBe('SUCCEEDED');
    await db.pool.query('DELETE FROM src WHERE id > 40');
    expect((await harness.runToEnd(pipeline.id)).status).toBe('SUCCEEDED');
    expect(await ids(index)).toEqual(range(1, 40));
  });

  describe('delete_missing without alias_reload', () => {
    const mapping = { properties: { n: { type: 'integer' } } };
    // Documents no run of the pipeline wrote, in an index created with the pipeline's mapping.
    const strays = async (index: string) => {
      const sink = createSearchSink(target(index, { mapping }), { runId: randomUUID(), pipelineId: randomUUID(), mode: 'full', ownRunIds: async () => [] }, client);
      await sink.prepareRun();
      await sink.write(rows([1001, 1002, 1003]), async () => undefined);
    };
    const create = (index: string, extra: Record<string, unknown> = {}) =>
      harness.engine.manage.create({
        name: `missing_${index.replaceAll('-', '_')}`,
        mode: 'full',
        batch_size: 20,
        source: { query: 'SELECT id, name, updated, n FROM src' },
        target: target(index, { delete_missing: true, mapping }),
        ...extra,
      });
    beforeEach(async () => {
      await db.pool.query(`ALTER TABLE src ADD COLUMN n text; UPDATE src SET n = id::text`);
    });

    it('removes exactly the documents the run did not read, counted in rows_deleted; documents carry etl_run_id', async () => {
      const index = `missing-ok-${flavour}`;
      await strays(index);
      const pipeline = await create(index);
      const run = await harness.runToEnd(pipeline.id);
      expect(run).toMatchObject({ status: 'SUCCEEDED', rows_read: 50, rows_written: 50, rows_deleted: 3 });
      const docs = await documents(node, index);
      expect(docs.map((d) => Number(d._id))).toEqual(range(1, 50));
      expect(docs.every((d) => d._source.etl_run_id === run.id)).toBe(true);
    });

    it('a failed run deletes nothing; the run that resumes its read keeps what the failed run wrote', async () => {
      const index = `missing-failed-${flavour}`;
      await strays(index);
      await db.pool.query(`UPDATE src SET n = 'not a number' WHERE id = 30`);
      const pipeline = await create(index);
      const failed = await harness.runToEnd(pipeline.id);
      expect(failed).toMatchObject({ status: 'FAILED', rows_written: 20, rows_deleted: 0, error: { name: 'RejectedRowError' } });
      // The refused batch's other documents were written (bulk items stand alone); nothing was deleted.
      expect(await ids(index)).toEqual([...range(1, 40).filter((id) => id !== 30), 1001, 1002, 1003]);

      await db.pool.query(`UPDATE src SET n = '30' WHERE id = 30`);
      const resumed = await harness.runToEnd(pipeline.id);
      expect(resumed).toMatchObject({ status: 'SUCCEEDED', resumed_from: failed.id, rows_read: 30, rows_deleted: 3 });
      expect(await ids(index)).toEqual(range(1, 50));
    });

    it('a paused run deletes nothing until it resumes and succeeds', async () => {
      const index = `missing-paused-${flavour}`;
      await strays(index);
      const pipeline = await create(index, { batch_size: 10 });
      harness.delayBatches(50);
      try {
        const { run_id } = await harness.engine.runs.requestRun(pipeline.id);
        await harness.until(async () => (await harness.engine.runs.getRun(pipeline.id, run_id)).batches >= 2, 'two batches');
        await harness.engine.runs.requestPause(pipeline.id);
        expect(await harness.waitForRun(pipeline.id, run_id, ['PAUSED'])).toMatchObject({ rows_deleted: 0 });
        expect((await ids(index)).filter((id) => id > 1000)).toEqual([1001, 1002, 1003]);
      } finally {
        harness.clearIntercepts();
      }
      expect(await harness.runToEnd(pipeline.id)).toMatchObject({ status: 'SUCCEEDED', rows_read: 50, rows_deleted: 3 });
      expect(await ids(index)).toEqual(range(1, 50));
    });
  });
});
