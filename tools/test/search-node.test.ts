/**
 * The local search node (tools/local/search-node): a real Elasticsearch and a real OpenSearch,
 * each started on loopback, written to and searched with its official client, then stopped.
 * Also checks that a node does not outlive a parent killed with SIGKILL, and that the next
 * start on the same data directory works without manual cleanup.
 */
import { Client as ElasticsearchClient } from '@elastic/elasticsearch';
import { Client as OpenSearchClient } from '@opensearch-project/opensearch';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSearchNode, type SearchFlavour, type SearchNode } from '../local/search-node/search-node.ts';
import { isAlive } from '../local/processes.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = path.join(REPO_ROOT, 'tools/local/search-node/cli.ts');
/** The first run fetches the engine from Maven Central; CI does that beforehand with --fetch-only. */
const START_TIMEOUT_MS = 600_000;

const BOOKS = [
  { id: 'pg', title: 'PostgreSQL internals', pages: 410 },
  { id: 'es', title: 'Elasticsearch in practice', pages: 320 },
  { id: 'etl', title: 'Fault tolerant ETL with PostgreSQL', pages: 250 },
];

interface SearchHit {
  _id?: string;
  _source?: unknown;
}

/** The two official clients differ in request and response shapes; the tests only need this much. */
interface SearchPort {
  infoVersion(): Promise<string>;
  indexBooks(index: string): Promise<{ errors: boolean }>;
  searchTitle(index: string, text: string): Promise<SearchHit[]>;
  close(): Promise<void>;
}

function clientFor(node: SearchNode): SearchPort {
  if (node.flavour === 'elasticsearch') {
    const client = new ElasticsearchClient({ node: node.url });
    return {
      infoVersion: async () => (await client.info()).version.number,
      indexBooks: async (index) => {
        await client.indices.create({ index, mappings: { properties: { title: { type: 'text' }, pages: { type: 'integer' } } } });
        const operations = BOOKS.flatMap(({ id, ...book }) => [{ index: { _index: index, _id: id } }, book]);
        return await client.bulk({ refresh: true, operations });
      },
      searchTitle: async (index, text) => (await client.search({ index, query: { match: { title: text } } })).hits.hits,
      close: () => client.close(),
    };
  }
  const client = new OpenSearchClient({ node: node.url });
  return {
    infoVersion: async () => (await client.info()).body.version.number,
    indexBooks: async (index) => {
      await client.indices.create({ index, body: { mappings: { properties: { title: { type: 'text' }, pages: { type: 'integer' } } } } });
      const body = BOOKS.flatMap(({ id, ...book }) => [{ index: { _index: index, _id: id } }, book]);
      return (await client.bulk({ refresh: true, body })).body;
    },
    searchTitle: async (index, text) => (await client.search({ index, body: { query: { match: { title: text } } } })).body.hits.hits,
    close: () => client.close(),
  };
}


async function waitUntilGone(pid: number, timeoutMs: number): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
    if (!isAlive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return !isAlive(pid);
}

/**
 * Runs the CLI in a separate Node process (the node's owner) and resolves with both pids once
 * the node is up. `node --import tsx` keeps it to one process, so SIGKILL hits the real owner.
 */
async function startOwnerProcess(flavour: SearchFlavour, dataDir: string): Promise<{ ownerPid: number; nodePid: number }> {
  const owner = spawn(process.execPath, ['--import', 'tsx', CLI, '--flavour', flavour, '--port', '0', '--data-dir', dataDir, '--quiet'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`owner did not start the node in time:\n${output}`)), 120_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const pid = /is running at \S+ \(pid (\d+)/.exec(output)?.[1];
      if (pid !== undefined && owner.pid !== undefined) {
        clearTimeout(timer);
        resolve({ ownerPid: owner.pid, nodePid: Number(pid) });
      }
    };
    owner.stdout.on('data', onData);
    owner.stderr.on('data', onData);
    owner.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`owner exited with ${String(code)} before the node was up:\n${output}`));
    });
  });
}

describe.each<SearchFlavour>(['elasticsearch', 'opensearch'])('local %s node', (flavour) => {
  let node: SearchNode;
  let port: SearchPort;

  beforeAll(async () => {
    node = await startSearchNode({ flavour });
    port = clientFor(node);
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await port?.close();
    await node?.stop();
  });

  it('is the real engine, on loopback', async () => {
    expect(node.flavour).toBe(flavour);
    expect(node.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await port.infoVersion()).toBe(node.version);
  });

  it('indexes documents with the official client and finds them again', async () => {
    const index = `books-${flavour}`;
    const bulk = await port.indexBooks(index);
    expect(bulk.errors).toBe(false);

    const hits = await port.searchTitle(index, 'postgresql');
    expect(hits.map((hit) => hit._id).sort()).toEqual(['etl', 'pg']);
    expect(hits.find((hit) => hit._id === 'pg')?._source).toEqual({ title: 'PostgreSQL internals', pages: 410 });
  });

  it('stops: the JVM is gone and its temporary data directory removed', async () => {
    const { pid, dataDir } = node;
    expect(isAlive(pid)).toBe(true);
    await node.stop();
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(dataDir)).toBe(false);
    await node.stop(); // idempotent
  }, 60_000);

  it('does not outlive a parent killed with SIGKILL, and the next start needs no cleanup', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'sn-test-'));
    const standIn = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 300_000)', dataDir], { stdio: 'ignore' });
    try {
      const { ownerPid, nodePid } = await startOwnerProcess(flavour, dataDir);
      process.kill(ownerPid, 'SIGKILL');
      expect(await waitUntilGone(nodePid, 30_000)).toBe(true);

      // Where the kernel cannot stop the node with its parent (not Linux), it survives: the pid
      // file then names it. A stand-in process that mentions the data directory plays that node.
      await writeFile(path.join(dataDir, 'search-node.pid'), JSON.stringify({ pid: standIn.pid, ownerPid, dataDir }));
      const again = await startSearchNode({ flavour, dataDir });
      try {
        expect(standIn.pid !== undefined && isAlive(standIn.pid)).toBe(false);
        expect((await fetch(`${again.url}/_cluster/health`)).ok).toBe(true);
      } finally {
        await again.stop();
      }
      expect(isAlive(again.pid)).toBe(false);
    } finally {
      standIn.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 180_000);
});
