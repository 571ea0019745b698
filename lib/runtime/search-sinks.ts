import { createSearchSinkFactory, type SearchSinkFactory } from '../adapters/search/index.ts';
import { runtimeSecrets } from './secrets.ts';

// Top-level await: the search URLs may carry credentials and come from SSM in the cloud.
const secrets = await runtimeSecrets();

/** One search sink factory per container; clients are created per engine URL on first use. */
export function createSearchSinksFromConfig(): SearchSinkFactory {
  return createSearchSinkFactory({ elasticsearchUrl: secrets.esUrl, opensearchUrl: secrets.opensearchUrl });
}
