/** The SearchClient over `@elastic/elasticsearch` 9 (Elasticsearch 8/9 servers, Elastic Cloud). */
import { Client, type ClientOptions } from '@elastic/elasticsearch';
import { BULK_FILTER_PATH, DEFAULT_REQUEST_TIMEOUT_MS, type SearchClientConfig } from './client-options.ts';
import { InvalidDefinitionError } from '../../core/errors.ts';
import { request, toBulkResult, type RawBulkResponse, type SearchClient } from './search-client.ts';

export function createElasticsearchClient(config: SearchClientConfig): SearchClient {
  const client = new Client(clientOptions(config));
  return {
    flavour: 'elasticsearch',
    bulk: (ndjson) =>
      request('bulk', async () => {
        // The body is sent as prepared: the sink sized each request by these exact bytes.
        const raw = await client.transport.request<RawBulkResponse>({
          method: 'POST',
          path: '/_bulk',
          bulkBody: ndjson,
          querystring: { filter_path: BULK_FILTER_PATH },
        });
        return toBulkResult(raw);
      }),
    exists: (name) => request('indices.exists', () => client.indices.exists({ index: name })),
    createIndex: (index, definition) =>
      request('indices.create', async () => {
        await client.indices.create({ index, ...definition });
      }),
    deleteIndices: (indices) =>
      request('indices.delete', async () => {
        if (indices.length > 0) await client.indices.delete({ index: indices });
      }),
    aliasTargets: (alias) =>
      request('indices.get_alias', async () => {
        // HEAD first: a missing alias answers GET with a 404 error, not an empty result.
        if (!(await client.indices.existsAlias({ name: alias }))) return [];
        return Object.keys(await client.indices.getAlias({ name: alias }));
      }),
    updateAliases: (actions) =>
      request('indices.update_aliases', async () => {
        await client.indices.updateAliases({ actions });
      }),
    listIndices: (pattern) =>
      request('cat.indices', async () => {
        const rows = await client.cat.indices({ index: pattern, format: 'json', h: 'index' });
        return rows.flatMap((row) => (row.index === undefined ? [] : [row.index]));
      }),
    refresh: (index) =>
      request('indices.refresh', async () => {
        await client.indices.refresh({ index });
      }),
    count: (index) => request('count', async () => (await client.count({ index })).count),
    putMapping: (index, properties) =>
      request('indices.put_mapping', async () => {
        await client.indices.putMapping({ index, properties: properties as never });
      }),
    findIds: (index, query, size) =>
      request('search', async () => (await client.search({ index, query, size, _source: false, sort: ['_doc'] })).hits.hits.flatMap((hit) => (hit._id === undefined ? [] : [hit._id]))),
    close: () => client.close(),
  };
}

function clientOptions(config: SearchClientConfig): ClientOptions {
  const options: ClientOptions = {
    node: config.url,
    maxRetries: config.maxRetries ?? 0,
    requestTimeout: config.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
  };
  const auth = config.auth;
  if (auth === undefined) return options;
  if ('awsSigV4' in auth) {
    throw new InvalidDefinitionError('search engine auth: AWS SigV4 signing is for Amazon OpenSearch Service; use the opensearch flavour (OPENSEARCH_URL)');
  }
  return { ...options, auth };
}
