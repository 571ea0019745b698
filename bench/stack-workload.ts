/**
 * What the memory bench runs through the stack's HTTP API: a 6-column source table of N rows
 * (schema `bench` of the state database), one pipeline per path, each run until SUCCEEDED while
 * GET /pipelines/{id} is timed every 500 ms, and the target counted afterwards.
 *
 *   copy      source and target on `default`: COPY out of a read session into COPY + upsert
 *   pushdown  source and target on the named connection `data` (the same database): one INSERT ... SELECT per batch
 *   js        the copy pipeline with a transform in between: every row becomes a JavaScript object
 *   search    (ES_URL) the rows into an Elasticsearch index
 */
import type pg from 'pg';
import type { ApiClient } from '../tools/local/api-client.ts';

export const PATHS = ['copy', 'pushdown', 'js', 'search'] as const;
export type PathName = (typeof PATHS)[number];

/** The named connection of the pushdown path; the bench sets ETL_CONNECTION_DATA to the state database. */
export const DATA_CONNECTION = 'data';
const TARGET_TABLE = 'bench.items_copy';
const SEARCH_INDEX = 'bench-stack-memory';
const TABLE = '(id bigint PRIMARY KEY, a integer NOT NULL, b text NOT NULL, c numeric(12,2), d timestamptz NOT NULL, e boolean NOT NULL)';

export const sourceTable = (rows: number) => `bench.items_${rows}`;

/** Creates the source table of `rows` rows unless it is there already with that many. */
export async function seedSource(pool: pg.Pool, rows: number): Promise<void> {
  const table = sourceTable(rows);
  await pool.query(`CREATE SCHEMA IF NOT EXISTS bench; CREATE TABLE IF NOT EXISTS ${table} ${TABLE}; CREATE TABLE IF NOT EXISTS ${TARGET_TABLE} ${TABLE}`);
  const { rows: counted } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
  if (Number(counted[0]!.n) === rows) return;
  await pool.query(`TRUNCATE ${table}`);
  await pool.query(
    `INSERT INTO ${table} SELECT i, ((i::bigint * 7919) % 100000)::integer, md5(i::text) || ' item ' || i, (i % 100000) / 100.0,
       timestamptz '2024-01-01 00:00:00+00' + i * interval '1 second', i % 3 = 0
     FROM generate_series(1, $1) AS i`,
    [rows],
  );
  await pool.query(`VACUUM ANALYZE ${table}`);
}

export function pipelineBody(path: PathName, rows: number, name: string): Record<string, unknown> {
  const query = `SELECT id, a, b, c, d, e FROM ${sourceTable(rows)}`;
  const postgres = { type: 'postgres', table: TARGET_TABLE, key: ['id'] };
  switch (path) {
    case 'copy':
      return { name, mode: 'full', source: { query }, target: postgres };
    case 'pushdown':
      return { name, mode: 'full', source: { query, connection: DATA_CONNECTION }, target: { ...postgres, connection: DATA_CONNECTION } };
    case 'js':
      return {
        name,
        mode: 'full',
        tasks: [
          { type: 'sql_reader', name: 'read', query },
          // A transform that keeps every row (a is never null) but makes each one a JavaScript object.
          { type: 'transform', name: 'keep', transform: 'drop_where_null', params: { field: 'a' } },
          { type: 'writer', name: 'write', target: postgres },
        ],
      };
    case 'search':
      return { name, mode: 'full', source: { query }, target: { type: 'elasticsearch', index: SEARCH_INDEX, id_field: 'id' } };
  }
}

/** Empties the path's target before its run, so that each run writes every row. */
export async function emptyTarget(path: PathName, pool: pg.Pool, esUrl: string | undefined): Promise<void> {
  if (path !== 'search') {
    await pool.query(`TRUNCATE ${TARGET_TABLE}`);
    return;
  }
  const response = await fetch(`${esUrl}/${SEARCH_INDEX}`, { method: 'DELETE' });
  if (!response.ok && response.status !== 404) throw new Error(`DELETE ${SEARCH_INDEX}: HTTP ${response.status}`);
}

export async function countTarget(path: PathName, pool: pg.Pool, esUrl: string | undefined): Promise<number> {
  if (path !== 'search') return Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${TARGET_TABLE}`)).rows[0]!.n);
  await fetch(`${esUrl}/${SEARCH_INDEX}/_refresh`, { method: 'POST' });
  return ((await (await fetch(`${esUrl}/${SEARCH_INDEX}/_count`)).json()) as { count: number }).count;
}

export interface RunFigures {
  seconds: number;
  batches: number;
  rowsWritten: number;
  /** Milliseconds of each GET /pipelines/{id} made while the run was active. */
  getMs: number[];
}

/** Creates the pipeline, runs it, and times GET /pipelines/{id} every 500 ms until the run ends. */
export async function runThroughApi(api: ApiClient, body: Record<string, unknown>, timeoutMs: number): Promise<RunFigures> {
  const pipeline = await api.createPipeline(body);
  const started = performance.now();
  const { run_id } = await api.run(pipeline.id);
  const getMs: number[] = [];
  for (;;) {
    const before = performance.now();
    const current = await api.getPipeline(pipeline.id);
    getMs.push(performance.now() - before);
    if (['SUCCEEDED', 'FAILED', 'PAUSED', 'IDLE'].includes(current.status)) break;
    if (performance.now() - started > timeoutMs) throw new Error(`${String(body.name)} still ${current.status} after ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const seconds = (performance.now() - started) / 1000;
  const run = await api.getRun(pipeline.id, run_id);
  if (run.status !== 'SUCCEEDED') throw new Error(`${String(body.name)} ended ${run.status}: ${JSON.stringify(run.error)}`);
  return { seconds, batches: run.batches, rowsWritten: run.rows_written, getMs };
}
