/**
 * What a test of whole runs into a search engine needs, for one describe block: a real search
 * node of the flavour, a test database, and a run harness whose search target is that node. The
 * hooks are registered here; the fields are set once `beforeAll` has run.
 */
import { afterAll, beforeAll } from 'vitest';
import type { SearchFlavour, SearchNode } from '../../tools/local/search-node/search-node.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { startRunHarness, type RunHarness } from './run-harness.ts';
import { SEARCH_START_TIMEOUT_MS, startSearchEngine, stopSearchEngine, type SearchEngine } from './search-fixtures.ts';

export interface SearchStack {
  node: SearchNode;
  db: TestDatabase;
  harness: RunHarness;
}

export function useSearchStack(flavour: SearchFlavour, name: string): SearchStack {
  const stack = {} as SearchStack;
  let engine: SearchEngine | undefined;
  beforeAll(async () => {
    engine = await startSearchEngine(flavour, name);
    stack.node = engine.node;
    stack.db = await createTestDatabase();
    stack.harness = await startRunHarness({ databaseUrl: stack.db.url, ...(flavour === 'elasticsearch' ? { esUrl: stack.node.url } : { opensearchUrl: stack.node.url }) });
  }, SEARCH_START_TIMEOUT_MS);
  afterAll(async () => {
    await stack.harness?.stop();
    await stack.db?.drop();
    await stopSearchEngine(engine ?? {});
  }, 60_000);
  return stack;
}
