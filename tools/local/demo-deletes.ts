/**
 * Demo scenario 8: a soft-deleted film disappears from the demo's target table and, when a search
 * engine URL is set, from an index. The flag comes from a demo-owned table of deleted films
 * (content.demo_deleted_film), so the catalogue's own tables are never changed: the pipeline's
 * query joins it, and a deletion also moves `modified` so the incremental run picks it up.
 */
import type pg from 'pg';
import { loadSeedPipeline } from '../../seeds/pipelines/index.ts';
import type { ApiClient } from './api-client.ts';
import type { DemoChecks } from './demo-checks.ts';
import { DEMO_TABLE, demoPipeline } from './demo-namespace.ts';

export const DELETES_PIPELINES = ['film_dim_deletes', 'film_dim_search_deletes'];
const DELETED_TABLE = 'content.demo_deleted_film';
const SEARCH_INDEX = 'demo_film_dim_deletes';

/** film_dim_inc's query with `deleted` from the demo's table of deleted films. */
function queryWithFlag(query: string): string {
  const flagged = query
    .replace('fw.modified,', 'greatest(fw.modified, d.deleted_at) AS modified, d.deleted_at IS NOT NULL AS deleted,')
    .replace(/FROM content\.film_work fw$/, `FROM content.film_work fw LEFT JOIN ${DELETED_TABLE} d ON d.film_id = fw.id`);
  if (!flagged.includes('AS deleted') || !flagged.includes(DELETED_TABLE)) throw new Error('the film_dim_inc seed query changed shape; update tools/local/demo-deletes.ts');
  return flagged;
}

export async function scenarioDeletes(
  api: ApiClient,
  db: pg.Pool,
  warehouse: pg.Pool,
  checks: DemoChecks,
  engines: { esUrl?: string | undefined; opensearchUrl?: string | undefined },
): Promise<void> {
  checks.scenario(`8. Soft deletes: a film flagged deleted disappears from ${DEMO_TABLE}${engines.esUrl ?? engines.opensearchUrl ? ' and from the index' : ''}`);
  await db.query(`CREATE TABLE IF NOT EXISTS ${DELETED_TABLE} (film_id uuid PRIMARY KEY, deleted_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
  await db.query(`TRUNCATE ${DELETED_TABLE}`);
  const seed = loadSeedPipeline('film_dim_inc');
  const seedSource = seed.source as Record<string, unknown>;
  const source = { ...seedSource, query: queryWithFlag(String(seedSource.query)), deleted_flag: 'deleted' };

  const pipelines: { id: string; label: string; gone: (filmId: string) => Promise<boolean> }[] = [];
  const table = await api.createPipeline(demoPipeline(seed, { name: DELETES_PIPELINES[0], source }));
  pipelines.push({ id: table.id, label: DEMO_TABLE, gone: async (filmId) => (await warehouse.query(`SELECT 1 FROM ${DEMO_TABLE} WHERE film_id = $1`, [filmId])).rowCount === 0 });

  const flavour = engines.esUrl ? 'elasticsearch' : engines.opensearchUrl ? 'opensearch' : undefined;
  const url = engines.esUrl ?? engines.opensearchUrl;
  if (flavour && url) {
    const search = await api.createPipeline(demoPipeline(seed, { name: DELETES_PIPELINES[1], source, target: { type: flavour, index: SEARCH_INDEX, id_field: 'film_id' } }));
    pipelines.push({ id: search.id, label: `index ${SEARCH_INDEX}`, gone: async (filmId) => (await documentExists(url, SEARCH_INDEX, filmId)) === false });
  } else {
    checks.skip('deletes in a search index', 'no engine: set ES_URL or OPENSEARCH_URL to see the film leave an index too');
  }

  for (const pipeline of pipelines) {
    const accepted = await api.run(pipeline.id);
    const run = await api.waitForRun(pipeline.id, accepted.run_id);
    checks.expect(`initial load into ${pipeline.label} succeeds`, run.status === 'SUCCEEDED' && run.rows_deleted === 0, `${run.status}: read ${run.rows_read}, written ${run.rows_written}, deleted ${run.rows_deleted}`);
  }

  const { rows } = await db.query<{ id: string; title: string }>(`SELECT id, title FROM content.film_work ORDER BY id LIMIT 1`);
  const film = rows[0]!;
  await db.query(`INSERT INTO ${DELETED_TABLE} (film_id) VALUES ($1)`, [film.id]);
  console.log(`   flagged "${film.title}" (${film.id}) as deleted; the next runs delete it instead of writing it`);

  for (const pipeline of pipelines) {
    const accepted = await api.run(pipeline.id);
    const done = await api.waitForRun(pipeline.id, accepted.run_id);
    const shown = await api.getRun(pipeline.id, accepted.run_id);
    checks.expect(`the next run reads the flagged film and deletes it (rows_deleted 1)`, done.status === 'SUCCEEDED' && done.rows_read === 1 && shown.rows_deleted === 1, `${done.status}: read ${done.rows_read}, written ${done.rows_written}, deleted ${shown.rows_deleted}`);
    checks.expect(`the film is gone from ${pipeline.label}`, await pipeline.gone(film.id), film.id);
  }
}

/** GET of one document by _id, as a user of the index would check it (the same on both engines). */
async function documentExists(url: string, index: string, id: string): Promise<boolean> {
  const response = await fetch(`${url.replace(/\/$/, '')}/${index}/_doc/${encodeURIComponent(id)}`);
  return response.status === 200;
}
