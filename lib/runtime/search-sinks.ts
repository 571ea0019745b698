import { createSearchSinkFactory, type SearchSinkFactory } from '../adapters/search/index.ts';
import { config } from './config.ts';

/** One search sink factory per container; clients are created per engine URL on first use. */
export function createSearchSinksFromConfig(): SearchSinkFactory {
  return createSearchSinkFactory({ elasticsearchUrl: config.esUrl, opensearchUrl: config.opensearchUrl });
}
