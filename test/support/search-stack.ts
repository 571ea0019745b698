/**
 * What a test of whole runs into a search engine needs, for one describe block: a real search
 * node of the flavour, a test database, and a run harness whose search target is that node. The
 * hooks are registered here; the fields are set once `beforeAll` has run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startSearchNode, type SearchFlavour, type SearchNode } from '../../tools/local/search-node/search-node.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { startRunHarness, type RunHarness } from './run-harness.ts';

/** The first run fetches the engine from Maven Central. */
export const SEARCH_START_TIMEOUT_MS = 600_000;

export interface SearchStack {
  node: SearchNode;
  db: TestDatabase;
  harness: RunHarness;
}

export function useSearchStack(flavour: SearchFlavour, name: string): SearchStack {
  const stack = {} as SearchStack;
  let dataDir: string | undefined;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), `${name}-${flavour}-`));
    stack.node = await startSearchNode({ flavour, dataDir });
    stack.db = await createTestDatabase();
    stack.harness = await startRunHarness({ databaseUrl: stack.db.url, ...(flavour === 'elasticsearch' ? { esUrl: stack.node.url } : { opensearchUrl: stack.node.url }) });
  }, SEARCH_START_TIMEOUT_MS);
  afterAll(async () => {
    await stack.harness?.stop();
    await stack.db?.drop();
    await stack.node?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 60_000);
  return stack;
}
