/**
 * Search batches read in blocks and written while they are read (lib/core/use-cases/block-batch.ts),
 * against real PostgreSQL and a real Elasticsearch 9 and OpenSearch 2 node: the documents are
 * those of the object path byte for byte, a fault in the second block's bulk request fails the
 * batch with the cursor unmoved and a rerun changes nothing, and NULL or repeated keys found in a
 * later block still fail the run naming the value. Batches of 2,500 rows read in blocks of 1,000.
 */
import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { createPgSourceReader } from '../../lib/adapters/pg/source-reader.ts';
import { arrayActions } from '../../lib/adapters/search/array-documents.ts';
import { buildActions, type BulkAction } from '../../lib/adapters/search/bulk-body.ts';
import type { ReadRequest, RowBlock } from '../../lib/core/ports.ts';
import { BLOCK_ROWS } from '../../lib/core/use-cases/block-batch.ts';
import type { SearchFlavour, SearchNode } from '../../tools/local/search-node/search-node.ts';
import { useSearchStack } from '../support/search-stack.ts';

const ROWS = 2_500;
/** Every kind of value the reader hands over, a name returned twice and a name that is an array index. */
const QUERY = `SELECT id, code, title, n, at, day, tags, meta, big, flag, upper(title) AS title, n * 2 AS "10", updated FROM films`;

interface Hit {
  _id: string;
  _source: Record<string, unknown>;
}

async function engine<T>(node: SearchNode, method: string, route: string, body?: unknown): Promise<T> {
  const response = await fetch(`${node.url}${route}`, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

async function documents(node: SearchNode, index: string): Promise<Hit[]> {
  await engine(node, 'POST', `/${index}/_refresh`);
  const found = await engine<{ hits: { hits: Hit[] } }>(node, 'POST', `/${index}/_search`, { size: 10_000, sort: [{ id: 'asc' }], _source: true });
  return found.hits.hits.map(({ _id, _source }) => ({ _id, _source }));
}

const documentLines = (actions: BulkAction[]) => actions.map((action) => action.lines.split('\n')[1]!);

describe.each<SearchFlavour>(['elasticsearch', 'opensearch'])('search batches in blocks into %s', (flavour) => {
  const stack = useSearchStack(flavour, 'search-blocks');

  beforeEach(async () => {
    await stack.db.pool.query(`
      TRUNCATE etl.pipelines CASCADE;
      DROP TABLE IF EXISTS films;
      CREATE TABLE films (id integer, code text, title text, n numeric(12, 2), at timestamptz, day date, tags text[], meta jsonb, big bigint, flag boolean, updated timestamptz);
      INSERT INTO films SELECT i, 'c' || i, 'Amélie "' || i || E'" 映画\\n', i / 7.0, timestamptz '2024-01-01 10:00:00.123456+00' + i * interval '1 second',
        date '2024-01-01' + i, ARRAY['a' || i, NULL], jsonb_build_object('i', i, 'nested', jsonb_build_array(i::text, 'x', NULL)),
        9007199254740993 + i, CASE WHEN i % 3 = 0 THEN NULL ELSE i % 2 = 0 END, timestamptz '2024-01-01' + (i / 10) * interval '1 minute'
      FROM generate_series(1, ${ROWS}) AS i;`);
  });

  const create = (name: string, extra: Record<string, unknown> = {}, source: Record<string, unknown> = {}) =>
    stack.harness.engine.manage.create({
      name,
      mode: 'full',
      batch_size: ROWS,
      source: { query: QUERY, ...source },
      target: { type: flavour, index: `${name}-${flavour}`, id_field: 'id', ...extra },
    });

  it('builds from a real read in blocks the bytes the object path builds, and a run writes exactly those documents', async () => {
    const reader = createPgSourceReader(stack.db.pool, { label: 'default' });
    const request: ReadRequest = { query: QUERY, keyset: ['id'], after: null, below: null, limit: ROWS };
    const marker = { field: 'etl_run_id', value: randomUUID() };
    const { rows } = await reader.readBatch(request);
    const blocks: RowBlock[] = [];
    const read = await reader.readBlocks!(request, BLOCK_ROWS, async (block) => void blocks.push(block));
    expect(blocks.map((block) => [block.offset, block.rows.length])).toEqual([[0, 1000], [1000, 1000], [2000, 500]]);
    expect(read).toEqual({ rowsRead: ROWS, last: [String(ROWS)], done: true });
    const fromArrays = blocks.flatMap((block) => arrayActions(block.columns, [], 'films', 'id', marker)(block, null));
    expect(fromArrays.map((action) => action.lines)).toEqual(buildActions(rows, 'films', 'id', marker).map((action) => action.lines));
    expect(documentLines(fromArrays)[0]).toMatch(/^\{"10":"0\.28","id":1,"code":"c1","title":"AM.LIE \\"1\\" 映画\\n","n":"0\.14",/); // an array-index name first, a repeated name in its first place with its last value

    const pipeline = await create('blocks_same');
    expect(await stack.harness.runToEnd(pipeline.id)).toMatchObject({ status: 'SUCCEEDED', rows_read: ROWS, rows_written: ROWS, batches: 1 });
    const hits = await documents(stack.node, `blocks_same-${flavour}`);
    expect(hits.map((hit) => JSON.stringify(hit._source))).toEqual(documentLines(buildActions(rows, 'films', 'id')));
  });

  it('fails the batch when the second block is refused, leaves the cursor where it was, and a rerun writes the same documents', async () => {
    await stack.db.pool.query(`UPDATE films SET code = 'not a number' WHERE id = 1500`);
    const pipeline = await create('blocks_fault', { mapping: { properties: { code: { type: 'integer' } } } }, { query: QUERY.replace(', code,', ", replace(code, 'c', '') AS code,") });
    const failed = await stack.harness.runToEnd(pipeline.id);
    expect(failed).toMatchObject({ status: 'FAILED', cursor: null, rows_read: 0, rows_written: 0, batches: 0 });
    expect(failed.error).toMatchObject({ name: 'RejectedRowError' });
    expect(failed.error?.message).toContain('id=1500');
    const index = `blocks_fault-${flavour}`;
    // The first block was written before the second was refused (idempotent writes the cursor has not passed).
    expect((await documents(stack.node, index)).map((hit) => Number(hit._id))).toContain(1);

    await stack.db.pool.query(`UPDATE films SET code = 'c1500' WHERE id = 1500`);
    expect(await stack.harness.runToEnd(pipeline.id)).toMatchObject({ status: 'SUCCEEDED', rows_read: ROWS, rows_written: ROWS });
    const first = await documents(stack.node, index);
    expect(first).toHaveLength(ROWS);
    expect(first[1499]!._source.code).toBe('1500');
    expect(await stack.harness.runToEnd(pipeline.id)).toMatchObject({ status: 'SUCCEEDED', rows_read: ROWS });
    expect(await documents(stack.node, index)).toEqual(first);
  });

  it.each([
    ['a paging key repeated in the second block', `INSERT INTO films (id, code, title) VALUES (1500, 'dup', 'again')`, '(id) = "1500" more than once'],
    ['a NULL paging key after the last block', `INSERT INTO films (id, code, title) VALUES (NULL, 'null', 'no key')`, '1 row with a NULL "id"'],
  ])('refuses %s, naming it, with the cursor unmoved', async (_what, change, message) => {
    await stack.db.pool.query(change);
    const run = await stack.harness.runToEnd((await create(`blocks_keys_${randomUUID().slice(0, 6)}`)).id);
    expect(run).toMatchObject({ status: 'FAILED', cursor: null, rows_written: 0 });
    expect(run.error).toMatchObject({ name: 'KeyIntegrityError' });
    expect(run.error?.message).toContain(message);
  });

  it('refuses a target key repeated across blocks when the pipeline pages by another key', async () => {
    await stack.db.pool.query(`UPDATE films SET code = 'c5' WHERE id = 1800`);
    const pipeline = await stack.harness.engine.manage.create({
      name: 'blocks_target_key',
      mode: 'incremental',
      batch_size: ROWS,
      source: { query: QUERY, incremental_key: 'updated', incremental_id_key: 'id' },
      target: { type: flavour, index: `blocks_target_key-${flavour}`, id_field: 'code' },
    });
    const run = await stack.harness.runToEnd(pipeline.id);
    expect(run).toMatchObject({ status: 'FAILED', cursor: null, rows_written: 0 });
    expect(run.error).toMatchObject({ name: 'KeyIntegrityError' });
    expect(run.error?.message).toContain(`the batch for index blocks_target_key-${flavour} has the key (code) = "c5" more than once`);
  });
  it('refuses a stored multi-statement query at run time, before the read, and runs none of it', async () => {
    const smuggled = [
      [`${QUERY}; CREATE TABLE pwned (x int)`, 'source.query must be one statement: text follows a ";"'],
      ['SELECT id, code FROM films) AS src LIMIT 0; COMMIT; CREATE TABLE pwned (x int); SELECT * FROM (SELECT 1 AS id', 'source.query has a ")" without a matching "("'],
    ];
    for (const [query, refusal] of smuggled) {
      const pipeline = await create(`blocks_smuggled_${randomUUID().slice(0, 6)}`);
      // Stored as a stale or tampered definition would be: the checks at creation never see it.
      await stack.db.pool.query(`UPDATE etl.pipelines SET source = jsonb_set(source, '{query}', to_jsonb($2::text)) WHERE id = $1`, [pipeline.id, query]);
      const run = await stack.harness.runToEnd(pipeline.id);
      expect(run, query).toMatchObject({ status: 'FAILED', rows_written: 0 });
      expect(run.error?.name, query).toBe('SourceQueryError');
      expect(run.error?.message, query).toContain(refusal);
    }
    expect((await stack.db.pool.query<{ t: string | null }>("SELECT to_regclass('public.pwned')::text AS t")).rows[0]!.t).toBeNull();
    expect((await stack.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM films')).rows[0]!.n).toBe(ROWS);
  });
});
