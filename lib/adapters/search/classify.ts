/**
 * The one place that knows what search-engine HTTP statuses and client failures mean for a run.
 *
 * | what failed                                   | status / client error                         | becomes                  |
 * |-----------------------------------------------|-----------------------------------------------|--------------------------|
 * | whole request                                 | ConnectionError, TimeoutError, NoLivingConnections, DeserializationError | SearchUnavailableError |
 * | whole request                                 | 408, 429, 5xx (500 included, see below)       | SearchUnavailableError   |
 * | whole request                                 | 401, 403                                      | InvalidDefinitionError   |
 * | whole request                                 | ProductNotSupportedError, NotCompatibleError, ConfigurationError | InvalidDefinitionError |
 * | whole request, writing (bulk)                 | 404                                           | InvalidDefinitionError   |
 * | whole request, writing (bulk)                 | other 4xx (400, 413...)                       | RejectedRowError         |
 * | whole request, managing (create/alias/...)    | 404 and other 4xx                             | InvalidDefinitionError   |
 * | bulk item                                     | 2xx                                           | acknowledged             |
 * | bulk item                                     | 408, 429, 5xx, or no status                   | retried in the same write, then SearchUnavailableError |
 * | bulk item                                     | 401, 403 (security, index blocks), 404 (index missing, auto-create off) | InvalidDefinitionError |
 * | bulk item                                     | other 4xx (mapper_parsing_exception, document_parsing_exception, illegal_argument_exception...) | RejectedRowError |
 *
 * 500 counts as retryable: engines answer 500 for transient shard states (engine closed during a
 * relocation, node disconnects) as well as for bugs. A bug fails the run anyway once the bounded
 * retries are spent, while a transient 500 treated as permanent would fail a long run for nothing.
 */
import { EtlError, InvalidDefinitionError, RejectedRowError, SearchUnavailableError } from '../../core/errors.ts';
import { SearchRequestError, type BulkItemResult, type EngineError } from './search-client.ts';

export type ItemOutcome = 'acknowledged' | 'retry' | 'configuration' | 'rejected';

export function classifyItem(item: BulkItemResult): ItemOutcome {
  const { status } = item;
  if (status >= 200 && status < 300) return 'acknowledged';
  if (isTransientStatus(status) || status === 0) return 'retry';
  if (status === 401 || status === 403 || status === 404) return 'configuration';
  return 'rejected';
}

function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status < 600);
}

const UNAVAILABLE_CLIENT_ERRORS = new Set(['ConnectionError', 'TimeoutError', 'NoLivingConnectionsError', 'DeserializationError', 'RequestAbortedError']);
const MISCONFIGURED_CLIENT_ERRORS = new Set(['ProductNotSupportedError', 'NotCompatibleError', 'ConfigurationError', 'AwsSigv4SignerError']);

export interface RequestContext {
  /** What the request was for, e.g. `index film_dim`; leads the error message. */
  subject: string;
  /** A bulk write (its 4xx mean the documents were refused) rather than index management. */
  writing: boolean;
}

/**
 * Turns a failed request into the domain error the state machine acts on. Errors that did not
 * come from a client (programming errors) are returned unchanged.
 */
export function classifyRequestError(error: unknown, context: RequestContext): Error {
  if (error instanceof EtlError) return error;
  if (!(error instanceof SearchRequestError)) return error instanceof Error ? error : new Error(String(error));
  const { statusCode, clientError } = error.failure;
  const message = `${context.subject}: ${error.message}`;
  if (statusCode === undefined) {
    if (UNAVAILABLE_CLIENT_ERRORS.has(clientError)) return new SearchUnavailableError(message, { cause: error });
    if (MISCONFIGURED_CLIENT_ERRORS.has(clientError)) {
      return new InvalidDefinitionError(`${message} (is the URL the right engine for this flavour?)`, { cause: error });
    }
    return error;
  }
  if (isTransientStatus(statusCode)) return new SearchUnavailableError(message, { cause: error });
  if (statusCode === 401 || statusCode === 403) {
    return new InvalidDefinitionError(`${message} (check the search engine credentials and their permissions on the index)`, { cause: error });
  }
  if (statusCode === 404) return new InvalidDefinitionError(`${message} (the index is missing)`, { cause: error });
  if (context.writing && statusCode >= 400 && statusCode < 500) return new RejectedRowError(message, { cause: error });
  return new InvalidDefinitionError(message, { cause: error });
}

/** Creating an index that another invocation created first is not a failure. */
export function isAlreadyExists(error: unknown): boolean {
  return error instanceof SearchRequestError && error.failure.errorType === 'resource_already_exists_exception';
}

export interface ItemContext {
  index: string;
  idField: string;
}

/** The error a permanently failed item raises, naming the document's key and the engine's reason. */
export function itemError(item: BulkItemResult, outcome: 'configuration' | 'rejected', context: ItemContext, failedCount: number): EtlError {
  const others = failedCount > 1 ? ` (and ${failedCount - 1} more document(s) of the batch)` : '';
  const text = `document ${context.idField}=${item.id ?? '?'} rejected by index ${context.index}: ${describeEngineError(item.error, item.status)}${others}`;
  return outcome === 'rejected' ? new RejectedRowError(text) : new InvalidDefinitionError(text);
}

/** The error when items were still throttled or failing after the last in-write retry. */
export function retriesExhausted(items: BulkItemResult[], attempts: number, context: ItemContext): SearchUnavailableError {
  const first = items[0];
  const sample = first ? `, e.g. ${context.idField}=${first.id ?? '?'}: ${describeEngineError(first.error, first.status)}` : '';
  return new SearchUnavailableError(`index ${context.index}: ${items.length} document(s) still not accepted after ${attempts} attempt(s)${sample}`);
}

const MAX_REASON_LENGTH = 500;

export function describeEngineError(error: EngineError | undefined, status: number): string {
  if (!error) return `HTTP ${status}`;
  const parts = [`${error.type ?? 'error'}: ${error.reason ?? ''}`];
  for (let cause = error.caused_by, depth = 0; cause && depth < 3; cause = cause.caused_by, depth++) {
    parts.push(`caused by ${cause.type ?? 'error'}: ${cause.reason ?? ''}`);
  }
  const text = parts.join(' (') + ')'.repeat(parts.length - 1);
  return text.length > MAX_REASON_LENGTH ? `${text.slice(0, MAX_REASON_LENGTH)}...` : text;
}
