/**
 * Fixtures of the search sink's tests: a fake SearchClient for the unit tests (a real node cannot
 * be made to throttle or hold a request on demand), and a real node per flavour, on its own data
 * directory, for the integration tests.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createSearchClient } from '../../lib/adapters/search/index.ts';
import type { BulkResult, SearchClient } from '../../lib/adapters/search/search-client.ts';
import type { SinkContext } from '../../lib/core/ports.ts';
import { startSearchNode, type SearchFlavour, type SearchNode } from '../../tools/local/search-node/search-node.ts';

/** A client that answers `bulk` as the test says; the sink's write path calls nothing else. */
export function fakeSearchClient(bulk: (ndjson: string) => Promise<BulkResult>): SearchClient {
  const unused = () => Promise.reject(new Error('not used by write'));
  return {
    flavour: 'elasticsearch',
    bulk,
    exists: unused,
    createIndex: unused,
    deleteIndices: unused,
    aliasTargets: unused,
    updateAliases: unused,
    listIndices: unused,
    refresh: unused,
    count: unused,
    putMapping: unused,
    findIds: unused,
    close: async () => undefined,
  };
}

export const FILM_TARGET = { type: 'elasticsearch' as const, index: 'film_dim', id_field: 'film_id' };

export const SINK_CONTEXT: SinkContext = { runId: '4f1c2d3e-0000-4000-8000-000000000001', pipelineId: '4f1c2d3e-0000-4000-8000-0000000000ff', mode: 'incremental', ownRunIds: async () => [] };

/** One small row per id, keyed by FILM_TARGET's id_field. */
export const filmRows = (ids: string[]) => ids.map((id) => ({ film_id: id, title: `film ${id}` }));

/** The first run fetches the engine from Maven Central (CI does that beforehand with --fetch-only). */
export const SEARCH_START_TIMEOUT_MS = 600_000;

export interface SearchEngine {
  node: SearchNode;
  client: SearchClient;
  /** A data directory of the test's own, so a node restarted on it finds its indices again. */
  dataDir: string;
}

export async function startSearchEngine(flavour: SearchFlavour, label: string): Promise<SearchEngine> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `${label}-${flavour}-`));
  const node = await startSearchNode({ flavour, dataDir }).catch(async (error: unknown) => {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  });
  return { node, client: createSearchClient({ flavour, url: node.url }), dataDir };
}

/** Stops what a start (perhaps a failed one) left: the client, the node and its data directory. */
export async function stopSearchEngine(engine: Partial<SearchEngine>): Promise<void> {
  await engine.client?.close();
  await engine.node?.stop();
  if (engine.dataDir) await rm(engine.dataDir, { recursive: true, force: true });
}
