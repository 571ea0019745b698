/** The SearchClient over `@opensearch-project/opensearch` 3 (OpenSearch, Amazon OpenSearch Service). */
import { Client, type ClientOptions } from '@opensearch-project/opensearch';
import { AwsSigv4Signer } from '@opensearch-project/opensearch/aws-v3';
import { InvalidDefinitionError } from '../../core/errors.ts';
import { BULK_FILTER_PATH, DEFAULT_REQUEST_TIMEOUT_MS, type SearchClientConfig } from './client-options.ts';
import { request, toBulkResult, type RawBulkResponse, type SearchClient } from './search-client.ts';

export function createOpenSearchClient(config: SearchClientConfig): SearchClient {
  const client = new Client(clientOptions(config));
  return {
    flavour: 'opensearch',
    bulk: (ndjson) =>
      request('bulk', async () => {
        // The body is sent as prepared: the sink sized each request by these exact bytes.
        const response = await client.transport.request({
          method: 'POST',
          path: '/_bulk',
          bulkBody: ndjson,
          querystring: { filter_path: BULK_FILTER_PATH },
        });
        return toBulkResult(response.body as RawBulkResponse);
      }),
    exists: (name) => request('indices.exists', async () => (await client.indices.exists({ index: name })).body),
    createIndex: (index, definition) =>
      request('indices.create', async () => {
        await client.indices.create({ index, body: definition });
      }),
    deleteIndices: (indices) =>
      request('indices.delete', async () => {
        if (indices.length > 0) await client.indices.delete({ index: indices });
      }),
    aliasTargets: (alias) =>
      request('indices.get_alias', async () => {
        // HEAD first: a missing alias answers GET with a 404 error, not an empty result.
        if (!(await client.indices.existsAlias({ name: alias })).body) return [];
        return Object.keys((await client.indices.getAlias({ name: alias })).body);
      }),
    updateAliases: (actions) =>
      request('indices.update_aliases', async () => {
        await client.indices.updateAliases({ body: { actions } });
      }),
    listIndices: (pattern) =>
      request('cat.indices', async () => {
        const rows = (await client.cat.indices({ index: pattern, format: 'json', h: ['index'] })).body as Array<{ index?: string }>;
        return rows.flatMap((row) => (row.index === undefined ? [] : [row.index]));
      }),
    refresh: (index) =>
      request('indices.refresh', async () => {
        await client.indices.refresh({ index });
      }),
    count: (index) => request('count', async () => (await client.count({ index })).body.count),
    putMapping: (index, properties) =>
      request('indices.put_mapping', async () => {
        await client.indices.putMapping({ index, body: { properties } as never });
      }),
    findIds: (index, query, size) =>
      request('search', async () => {
        const { body } = await client.search({ index, body: { query, size, _source: false, sort: ['_doc'] } });
        return (body.hits.hits as Array<{ _id?: string }>).flatMap((hit) => (hit._id === undefined ? [] : [hit._id]));
      }),
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
  if ('apiKey' in auth) throw new InvalidDefinitionError('search engine auth: API keys are an Elasticsearch feature; use username/password or awsSigV4 for OpenSearch');
  if ('awsSigV4' in auth) {
    // Signs every request with the default AWS credential chain (the Lambda role).
    return { ...options, ...AwsSigv4Signer({ region: auth.awsSigV4.region, service: auth.awsSigV4.service ?? 'es' }) };
  }
  return { ...options, auth };
}
