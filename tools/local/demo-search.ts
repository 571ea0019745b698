/** Demo scenario 6: load film_dim into a search index and query it. */
import type pg from 'pg';
import { createSearchClient } from '../../lib/adapters/search/index.ts';
import { loadSeedPipeline } from '../../seeds/pipelines/index.ts';
import type { ApiClient } from './api-client.ts';
import type { DemoChecks } from './demo-checks.ts';

export async function scenarioSearch(
  api: ApiClient,
  db: pg.Pool,
  checks: DemoChecks,
  engines: { esUrl?: string | undefined; opensearchUrl?: string | undefined; mapping: Record<string, unknown> },
): Promise<void> {
  checks.scenario('6. film_dim into a search index, then a query');
  const flavour = engines.esUrl ? 'elasticsearch' : engines.opensearchUrl ? 'opensearch' : undefined;
  const url = engines.esUrl ?? engines.opensearchUrl;
  if (!flavour || !url) {
    checks.skip('search scenario', 'no engine: set ES_URL or OPENSEARCH_URL (npm run search:start runs a local node) and restart the stack');
    return;
  }
  const body = loadSeedPipeline('film_dim_search');
  // The demo's own namespace (demo.ts): a `demo_` pipeline and index.
  const index = 'demo_film_dim';
  const pipeline = await api.createPipeline({ ...body, name: `demo_${String(body.name)}`, target: { type: flavour, index, id_field: 'film_id', mapping: engines.mapping } });
  const accepted = await api.run(pipeline.id);
  const run = await api.waitForRun(pipeline.id, accepted.run_id);
  const source = Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM content.film_work')).rows[0]!.n);
  checks.expect('run SUCCEEDED', run.status === 'SUCCEEDED', `${run.status} ${run.error?.message ?? ''}`);
  const client = createSearchClient({ flavour, url });
  try {
    await client.refresh(index);
    const documents = await client.count(index);
    checks.expect(`document count equals the source (${source})`, documents === source, `${documents} documents in ${index}`);
    const hits = await searchTitles(url, index, 'storm');
    checks.expect('a search for "storm" finds films', hits.length > 0, `${hits.length} hits`);
    for (const hit of hits) console.log(`     - ${String(hit.title)} (${String(hit.type)}, rating ${String(hit.rating)})`);
  } finally {
    await client.close();
  }
}

/** A plain REST query (the same on both engines), as a user of the index would send it. */
async function searchTitles(url: string, index: string, words: string): Promise<Record<string, unknown>[]> {
  const response = await fetch(`${url.replace(/\/$/, '')}/${index}/_search`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: { match: { title: words } }, size: 3 }),
  });
  const body = (await response.json()) as { hits?: { hits?: { _source: Record<string, unknown> }[] } };
  return (body.hits?.hits ?? []).map((hit) => hit._source);
}
