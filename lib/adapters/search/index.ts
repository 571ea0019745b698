/**
 * The search sinks (Elasticsearch and OpenSearch) behind the core's `Sink` port.
 *
 * Wiring: create one factory per Lambda container (module scope) with the engine URLs from the
 * validated config (ES_URL, OPENSEARCH_URL); it creates one client per engine URL on first use
 * and reuses it for every invocation of that container.
 */
import type { SinkContext, SinkFactory } from '../../core/ports.ts';
import type { TargetDefinition } from '../../core/pipeline.ts';
import { InvalidDefinitionError } from '../../core/errors.ts';
import type { SearchAuth, SearchClientConfig } from './client-options.ts';
import { createElasticsearchClient } from './elasticsearch-client.ts';
import { createOpenSearchClient } from './opensearch-client.ts';
import type { SearchClient, SearchFlavour } from './search-client.ts';
import { createSearchSink, type SearchSink, type SearchSinkOptions } from './search-sink.ts';

export { createSearchSink } from './search-sink.ts';
export type { RetryEvent, RetryPolicy, SearchSink, SearchSinkOptions } from './search-sink.ts';
export { physicalIndexName } from './index-manager.ts';
export type { SearchAuth, SearchClientConfig } from './client-options.ts';
export type { SearchClient, SearchFlavour } from './search-client.ts';

export function createSearchClient(config: SearchClientConfig): SearchClient {
  return config.flavour === 'elasticsearch' ? createElasticsearchClient(config) : createOpenSearchClient(config);
}

export interface SearchSinkFactoryConfig {
  /** ES_URL: the Elasticsearch engine for targets of type `elasticsearch`. */
  elasticsearchUrl?: string | undefined;
  /** OPENSEARCH_URL: the OpenSearch engine for targets of type `opensearch`. */
  opensearchUrl?: string | undefined;
  auth?: Partial<Record<SearchFlavour, SearchAuth | undefined>>;
  requestTimeoutMs?: number | undefined;
  /** Mappings for targets that give none, by index name, e.g. `{ film_dim: <seeds/mappings/film_dim.json> }`. */
  defaultMappings?: Record<string, Record<string, unknown>>;
  sink?: Omit<SearchSinkOptions, 'mapping'>;
}

export interface SearchSinkFactory extends SinkFactory {
  forTarget(target: TargetDefinition, context: SinkContext): SearchSink;
  /** Closes the clients (tests, local shutdown; a Lambda container just ends). */
  close(): Promise<void>;
}

const ENV_NAMES: Record<SearchFlavour, string> = { elasticsearch: 'ES_URL', opensearch: 'OPENSEARCH_URL' };

export function createSearchSinkFactory(config: SearchSinkFactoryConfig): SearchSinkFactory {
  const clients = new Map<string, SearchClient>();
  const clientFor = (flavour: SearchFlavour): SearchClient => {
    const url = flavour === 'elasticsearch' ? config.elasticsearchUrl : config.opensearchUrl;
    if (!url) {
      throw new InvalidDefinitionError(`target.type: no ${flavour} engine is configured for this deployment (set ${ENV_NAMES[flavour]})`);
    }
    const key = `${flavour} ${url}`;
    let client = clients.get(key);
    if (!client) {
      client = createSearchClient({ flavour, url, auth: config.auth?.[flavour], requestTimeoutMs: config.requestTimeoutMs });
      clients.set(key, client);
    }
    return client;
  };

  return {
    forTarget(target: TargetDefinition, context: SinkContext): SearchSink {
      if (target.type === 'postgres') throw new InvalidDefinitionError('target.type: the search sink factory only builds elasticsearch and opensearch sinks');
      return createSearchSink(target, context, clientFor(target.type), { ...config.sink, mapping: config.defaultMappings?.[target.index] });
    },
    async close() {
      const all = [...clients.values()];
      clients.clear();
      await Promise.all(all.map((client) => client.close()));
    },
  };
}

