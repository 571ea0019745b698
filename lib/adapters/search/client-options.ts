/** Connection settings shared by the two client adapters. */
import type { SearchFlavour } from './search-client.ts';

export type SearchAuth =
  | { username: string; password: string }
  /** Elasticsearch API key (the base64 "id:key" form, as Kibana shows it). */
  | { apiKey: string }
  /** Amazon OpenSearch Service with IAM: requests are signed with the Lambda role's credentials. */
  | { awsSigV4: { region: string; service?: 'es' | 'aoss' } };

export interface SearchClientConfig {
  flavour: SearchFlavour;
  url: string;
  auth?: SearchAuth | undefined;
  /**
   * Per-request timeout. The Elasticsearch client has none by default, and a hung request would
   * burn the whole Lambda timeout; keep it below the RunBatch task timeout.
   */
  requestTimeoutMs?: number | undefined;
  /**
   * Transport-level retries of a failed request. Default 0: the state machine's Retry on RunBatch
   * owns retrying whole failures with backoff (the state machine owns the retry policy: no second retry loop in a step); the
   * clients' own retries would fire at once, without backoff.
   */
  maxRetries?: number | undefined;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** Filters the bulk response down to what the sink reads: saves parsing thousands of item bodies. */
export const BULK_FILTER_PATH = 'errors,items.*.status,items.*._id,items.*.error';
