/**
 * The search sink (lib/adapters/search) against a real Elasticsearch 9 and a real OpenSearch 2
 * node on loopback: idempotent bulk writes, refused rows, byte-sized requests, the engine going
 * away and coming back, and full reloads through an alias swap.
 *
 * Documents become searchable at the next refresh, not when `write` returns (the sink does not
 * refresh per batch), so the tests refresh before they count or search.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Row, SinkContext } from '../../lib/core/ports.ts';
import type { SearchTarget } from '../../lib/core/pipeline.ts';
import { createSearchClient, createSearchSink, createSearchSinkFactory, physicalIndexName, type SearchClient, type SearchSinkOptions } from '../../lib/adapters/search/index.ts';
import { startSearchNode, type SearchFlavour, type SearchNode } from '../../tools/local/search-node/search-node.ts';
import { SEARCH_START_TIMEOUT_MS as START_TIMEOUT_MS, startSearchEngine, stopSearchEngine } from '../support/search-fixtures.ts';
const FILM_DIM_MAPPING = JSON.parse(readFileSync(new URL('../../seeds/mappings/film_dim.json', import.meta.url), 'utf8')) as Record<string, unknown>;

interface Hit {
  _id: string;
  _version: number;
  _source: Row;
}

/** Rows shaped like analytics.film_dim as the engine reads them (numeric as string, ISO timestamps). */
function films(count: number, edition = 'v1', from = 0): Row[] {
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    return {
      film_id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      title: `${edition} Amélie ${i} 映画`,
      description: i % 3 === 0 ? null : `A film about the number ${i}`,
      rating: i % 2 === 0 ? `${i % 10}.${i % 7}` : (i % 100) / 10,
      type: i % 2 === 0 ? 'movie' : 'tv_show',
      creation_date: i % 5 === 0 ? null : `19${String(50 + (i % 50))}-0${1 + (i % 9)}-1${i % 10}`,
      genres: ['Drama', i % 2 === 0 ? 'Comedy' : 'Sci-Fi'],
      actors: [`Actor ${i}`, `Actor ${i + 1}`],
      directors: [`Director ${i % 13}`],
      writers: [],
      modified: `2024-01-0${1 + (i % 9)}T12:34:56.${String(123456 + i).slice(-6)}+00:00`,
    };
  });
}

/** Sorted keys at every level, so the checksum does not depend on key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function checksum(documents: Array<{ id: string; source: unknown }>): string {
  const lines = documents.map(({ id, source }) => `${id}\t${canonical(source)}`).sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

function rowsChecksum(rows: Row[]): string {
  return checksum(rows.map((row) => ({ id: String(row.film_id), source: JSON.parse(JSON.stringify(row)) as unknown })));
}

function hitsChecksum(hits: Hit[]): string {
  return checksum(hits.map((hit) => ({ id: hit._id, source: hit._source })));
}

async function engine<T>(node: SearchNode, method: string, route: string, body?: unknown): Promise<T> {
  const response = await fetch(`${node.url}${route}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

async function allHits(node: SearchNode, index: string): Promise<Hit[]> {
  const result = await engine<{ hits: { hits: Hit[] } }>(node, 'POST', `/${index}/_search`, { size: 10_000, version: true, sort: ['_doc'] });
  return result.hits.hits;
}

const commitSpy = () => vi.fn(async (_tx: unknown) => undefined);

describe.each<SearchFlavour>(['elasticsearch', 'opensearch'])('search sink on %s', (flavour) => {
  let node: SearchNode;
  let client: SearchClient;
  let dataDir: string;

  const target = (index: string, extra: Partial<SearchTarget> = {}): SearchTarget => ({ type: flavour, index, id_field: 'film_id', ...extra });
  // Every sink here belongs to one pipeline, whose runs are these.
  const runsOfPipeline: string[] = [];
  const context = (mode: SinkContext['mode'] = 'incremental'): SinkContext => {
    const runId = randomUUID();
    runsOfPipeline.push(runId);
    return { runId, pipelineId: '00000000-0000-4000-8000-00000000cafe', mode, ownRunIds: async () => [...runsOfPipeline] };
  };
  const sinkFor = (index: string, options: SearchSinkOptions = {}, extra: Partial<SearchTarget> = {}, through: SearchClient = client) =>
    createSearchSink(target(index, extra), context(), through, { mapping: FILM_DIM_MAPPING, ...options });

  beforeAll(async () => {
    // A data directory of our own survives the restart in the last test.
    ({ node, client, dataDir } = await startSearchEngine(flavour, 'search-sink'));
  }, START_TIMEOUT_MS);

  // The node that runs at the end: the last test restarts it.
  afterAll(() => stopSearchEngine({ node, client, dataDir }), 60_000);

  it('writes N rows as N documents with the same content, under the explicit mapping', async () => {
    const sink = sinkFor('films-write');
    await sink.prepareRun();
    const rows = films(500);
    const commit = commitSpy();

    await expect(sink.write(rows, commit)).resolves.toEqual({ written: 500, deleted: 0 });

    expect(commit).toHaveBeenCalledTimes(1);
    expect(commit).toHaveBeenCalledWith(null, { deleted: 0 });
    await client.refresh('films-write');
    expect(await client.count('films-write')).toBe(500);
    expect(hitsChecksum(await allHits(node, 'films-write'))).toBe(rowsChecksum(rows));
    const mapping = await engine<Record<string, { mappings: { properties: Record<string, { type: string }> } }>>(node, 'GET', '/films-write/_mapping');
    expect(mapping['films-write']?.mappings.properties.rating?.type).toBe('float');
    expect(mapping['films-write']?.mappings.properties.modified?.type).toBe('date');
  });

  it('writing the same batch again changes nothing but _version (an index action counts writes)', async () => {
    const sink = sinkFor('films-again');
    await sink.prepareRun();
    const rows = films(300);
    await sink.write(rows, commitSpy());
    await client.refresh('films-again');
    const before = await allHits(node, 'films-again');

    const commit = commitSpy();
    await sink.write(rows, commit);
    await client.refresh('films-again');
    const after = await allHits(node, 'films-again');

    expect(commit).toHaveBeenCalledTimes(1);
    expect(after).toHaveLength(300);
    expect(hitsChecksum(after)).toBe(hitsChecksum(before));
    expect(hitsChecksum(after)).toBe(rowsChecksum(rows));
    expect(new Set(after.map((hit) => hit._version))).toEqual(new Set([2]));
  });

  it('writes a Date as its ISO string and a bigint as a decimal string, and keys documents by id_field', async () => {
    const sink = sinkFor('films-types');
    await sink.prepareRun();
    const row = { ...films(1)[0], film_id: 42n, creation_date: new Date('2001-02-03T00:00:00Z'), big: 9007199254740993n };
    await sink.write([row], commitSpy());
    await client.refresh('films-types');
    const [hit] = await allHits(node, 'films-types');
    expect(hit?._id).toBe('42');
    expect(hit?._source).toMatchObject({ film_id: '42', creation_date: '2001-02-03T00:00:00.000Z', big: '9007199254740993' });
  });

  it('refuses a batch with a row lacking id_field before writing anything', async () => {
    const sink = sinkFor('films-nokey');
    await sink.prepareRun();
    const rows = films(10);
    rows[4] = { ...rows[4], film_id: null };
    const commit = commitSpy();

    const write = sink.write(rows, commit);
    await expect(write).rejects.toMatchObject({ name: 'RejectedRowError', message: expect.stringContaining('film_id') as unknown });
    expect(commit).not.toHaveBeenCalled();
    await client.refresh('films-nokey');
    expect(await client.count('films-nokey')).toBe(0);
  });

  it('fails with RejectedRowError naming the key and the engine reason when the mapping refuses a row', async () => {
    const sink = sinkFor('films-rejected');
    await sink.prepareRun();
    const rows = films(50);
    const bad: Row = { ...rows[17], rating: 'not-a-number' };
    rows[17] = bad;
    const commit = commitSpy();

    const write = sink.write(rows, commit);
    await expect(write).rejects.toMatchObject({ name: 'RejectedRowError', retryable: false });
    await expect(write).rejects.toThrow(new RegExp(`document film_id=${String(bad.film_id)} rejected by index films-rejected: .*parsing_exception.*\\[rating\\]`));
    expect(commit).not.toHaveBeenCalled();
  });

  it('splits a batch into requests no larger than maxBulkBytes, and every document arrives', async () => {
    const sizes: number[] = [];
    const counting: SearchClient = {
      ...client,
      bulk: async (ndjson) => {
        sizes.push(Buffer.byteLength(ndjson, 'utf8'));
        return await client.bulk(ndjson);
      },
    };
    const sink = sinkFor('films-chunks', { maxBulkBytes: 4096 }, {}, counting);
    await sink.prepareRun();
    const rows = films(200);
    const commit = commitSpy();

    await sink.write(rows, commit);

    const total = sizes.reduce((sum, size) => sum + size, 0);
    expect(sizes.length).toBeGreaterThanOrEqual(Math.ceil(total / 4096));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4096);
    expect(commit).toHaveBeenCalledTimes(1);
    await client.refresh('films-chunks');
    expect(hitsChecksum(await allHits(node, 'films-chunks'))).toBe(rowsChecksum(rows));
  });

  it('creates the index once even when prepareRun runs twice, and keeps an existing mapping', async () => {
    const sink = sinkFor('films-prepare');
    await Promise.all([sink.prepareRun(), sink.prepareRun()]);
    await sink.prepareRun();
    expect(await client.exists('films-prepare')).toBe(true);
  });

  it('reloads through an alias: readers see the old index until finishRun swaps it, then the old one is gone', async () => {
    const alias = 'catalogue';
    const first = createSearchSink(target(alias, { alias_reload: true }), context('full'), client, { mapping: FILM_DIM_MAPPING });
    await first.prepareRun();
    await first.write(films(120, 'v1'), commitSpy());
    await first.finishRun();
    expect(await client.aliasTargets(alias)).toEqual([first.writeIndex]);
    expect(await client.count(alias)).toBe(120);

    const secondContext = context('full');
    const second = createSearchSink(target(alias, { alias_reload: true }), secondContext, client, { mapping: FILM_DIM_MAPPING });
    expect(second.writeIndex).toBe(physicalIndexName(alias, secondContext.runId));
    await second.prepareRun();
    const v2 = films(80, 'v2', 40);
    // Each batch of a run is a new invocation with a new sink: the run id alone finds the index.
    await second.write(v2.slice(0, 40), commitSpy());
    const nextInvocation = createSearchSink(target(alias, { alias_reload: true }), secondContext, client, { mapping: FILM_DIM_MAPPING });
    await nextInvocation.write(v2.slice(40), commitSpy());
    await client.refresh(second.writeIndex);

    expect(await client.count(alias)).toBe(120);
    expect((await allHits(node, alias)).every((hit) => String(hit._source.title).startsWith('v1 '))).toBe(true);

    await nextInvocation.finishRun();
    await nextInvocation.finishRun(); // a retried CompleteRun changes nothing

    expect(await client.aliasTargets(alias)).toEqual([second.writeIndex]);
    expect(await client.exists(first.writeIndex)).toBe(false);
    expect(hitsChecksum(await allHits(node, alias))).toBe(rowsChecksum(v2));
  });

  it("deletes only the physical indices of its own pipeline's runs when it swaps the alias", async () => {
    const alias = 'shared-name';
    const foreign = physicalIndexName(alias, randomUUID()); // another pipeline's index of the same shape
    await client.createIndex(foreign, {});
    const failedEarlier = context('full'); // an own run that failed before its swap left this index
    const orphan = createSearchSink(target(alias, { alias_reload: true }), failedEarlier, client, { mapping: FILM_DIM_MAPPING });
    await orphan.prepareRun();
    const reload = createSearchSink(target(alias, { alias_reload: true }), context('full'), client, { mapping: FILM_DIM_MAPPING });
    await reload.prepareRun();
    await reload.write(films(10, 'v1'), commitSpy());
    await reload.finishRun();

    expect(await client.aliasTargets(alias)).toEqual([reload.writeIndex]);
    expect(await client.exists(orphan.writeIndex)).toBe(false);
    expect(await client.exists(foreign)).toBe(true);
  });

  it('refuses alias_reload when the name is a concrete index', async () => {
    const plain = sinkFor('films-concrete');
    await plain.prepareRun();
    const reload = createSearchSink(target('films-concrete', { alias_reload: true }), context('full'), client);

    await expect(reload.prepareRun()).rejects.toMatchObject({ name: 'InvalidDefinitionError', message: expect.stringContaining('concrete index') as unknown });
  });

  it('builds sinks from the factory for its engine and refuses an engine without a URL', async () => {
    const factory = createSearchSinkFactory({
      elasticsearchUrl: flavour === 'elasticsearch' ? node.url : undefined,
      opensearchUrl: flavour === 'opensearch' ? node.url : undefined,
      defaultMappings: { 'films-factory': FILM_DIM_MAPPING },
    });
    try {
      const sink = factory.forTarget(target('films-factory'), context());
      await sink.prepareRun();
      await sink.write(films(5), commitSpy());
      const other = flavour === 'elasticsearch' ? 'opensearch' : 'elasticsearch';
      expect(() => factory.forTarget({ type: other, index: 'x', id_field: 'film_id' }, context())).toThrow(
        expect.objectContaining({ name: 'InvalidDefinitionError' }) as Error,
      );
      const mapping = await engine<Record<string, { mappings: { properties: Record<string, { type: string }> } }>>(node, 'GET', '/films-factory/_mapping');
      expect(mapping['films-factory']?.mappings.properties.film_id?.type).toBe('keyword');
    } finally {
      await factory.close();
    }
  });

  it('fails with SearchUnavailableError when nothing listens on the URL', async () => {
    const closed = createSearchClient({ flavour, url: 'http://127.0.0.1:9' });
    try {
      const commit = commitSpy();
      await expect(sinkFor('films-nowhere', {}, {}, closed).write(films(3), commit)).rejects.toMatchObject({ name: 'SearchUnavailableError', retryable: true });
      expect(commit).not.toHaveBeenCalled();
    } finally {
      await closed.close();
    }
  });

  it('fails with SearchUnavailableError while the engine is down, and the same write succeeds once it is back', async () => {
    const sink = sinkFor('films-restart');
    await sink.prepareRun();
    const rows = films(100);
    const port = Number(new URL(node.url).port);
    await node.stop();

    const commit = commitSpy();
    await expect(sink.write(rows, commit)).rejects.toMatchObject({ name: 'SearchUnavailableError' });
    expect(commit).not.toHaveBeenCalled();

    node = await startSearchNode({ flavour, dataDir, port });
    // The same client, as a warm Lambda container would reuse it.
    await expect(sink.write(rows, commit)).resolves.toEqual({ written: 100, deleted: 0 });
    expect(commit).toHaveBeenCalledTimes(1);
    await client.refresh('films-restart');
    expect(hitsChecksum(await allHits(node, 'films-restart'))).toBe(rowsChecksum(rows));
  }, START_TIMEOUT_MS);
});
