/**
 * The few search-engine calls the sink needs, behind one small interface so the sink's logic is
 * shared by the Elasticsearch and OpenSearch adapters (their official clients differ in request
 * and response shapes, and `@elastic/elasticsearch` refuses to talk to OpenSearch).
 *
 * Every method either succeeds or throws a `SearchRequestError`: a neutral description of what
 * went wrong (status, engine error type, network code). Only classify.ts turns it into a domain
 * error, so the meaning of HTTP statuses lives in one place.
 */

export type SearchFlavour = 'elasticsearch' | 'opensearch';

/** The engine's error object, as found in a bulk item or a response body. */
export interface EngineError {
  type?: string;
  reason?: string | null;
  caused_by?: EngineError;
}

/** One item of a bulk response, in request order. */
export interface BulkItemResult {
  status: number;
  id: string | undefined;
  error: EngineError | undefined;
}

export interface BulkResult {
  errors: boolean;
  items: BulkItemResult[];
}

/** A bulk response as both engines send it (after BULK_FILTER_PATH). */
export interface RawBulkResponse {
  errors?: boolean;
  items?: Array<Record<string, { status?: number; _id?: string; error?: EngineError } | undefined>>;
}

export function toBulkResult(raw: RawBulkResponse): BulkResult {
  const items = (raw.items ?? []).map((entry): BulkItemResult => {
    // Each item is keyed by its action ("index"); the sink only sends one kind.
    const result = Object.values(entry)[0];
    return { status: result?.status ?? 0, id: result?._id, error: result?.error };
  });
  return { errors: raw.errors === true, items };
}

export type AliasAction = { add: { index: string; alias: string } } | { remove: { index: string; alias: string } };

/** The body of an index creation: `mappings` and optional `settings`. */
export interface IndexDefinition {
  mappings?: Record<string, unknown>;
  settings?: Record<string, unknown>;
}

export interface SearchClient {
  readonly flavour: SearchFlavour;
  /** Sends a prepared NDJSON bulk body (every line ends with "\n"); each action names its index. */
  bulk(ndjson: string): Promise<BulkResult>;
  /** True when `name` is an index or an alias. */
  exists(name: string): Promise<boolean>;
  createIndex(index: string, definition: IndexDefinition): Promise<void>;
  deleteIndices(indices: string[]): Promise<void>;
  /** The indices `alias` points to; empty when no alias has that name. */
  aliasTargets(alias: string): Promise<string[]>;
  /** Applies the actions atomically (one `_aliases` request). */
  updateAliases(actions: AliasAction[]): Promise<void>;
  /** Concrete indices whose name matches the wildcard `pattern`. */
  listIndices(pattern: string): Promise<string[]>;
  refresh(index: string): Promise<void>;
  count(index: string): Promise<number>;
  /** Adds fields to the index's mapping (an existing field of the same type is left as it is). */
  putMapping(index: string, properties: Record<string, unknown>): Promise<void>;
  /** The _id of at most `size` documents matching `query` (no _source). */
  findIds(index: string, query: Record<string, unknown>, size: number): Promise<string[]>;
  close(): Promise<void>;
}

/** What a failed request looked like, without judging it (see classify.ts). */
export interface RequestFailure {
  /** The client call that failed, e.g. "bulk", "indices.create". */
  operation: string;
  /** HTTP status when the engine answered. */
  statusCode: number | undefined;
  /** The engine's error type, e.g. "resource_already_exists_exception". */
  errorType: string | undefined;
  reason: string | undefined;
  /** The client's error class name: ConnectionError, TimeoutError, ProductNotSupportedError... */
  clientError: string;
}

export class SearchRequestError extends Error {
  override readonly name = 'SearchRequestError';
  constructor(
    readonly failure: RequestFailure,
    options?: { cause?: unknown },
  ) {
    super(describeFailure(failure), options);
  }
}

function describeFailure(failure: RequestFailure): string {
  const status = failure.statusCode === undefined ? failure.clientError : `HTTP ${failure.statusCode}`;
  const engine = failure.errorType ? `${failure.errorType}: ${failure.reason ?? ''}` : (failure.reason ?? '');
  return `${failure.operation} failed (${status})${engine ? `: ${engine}` : ''}`;
}

/**
 * Wraps an error thrown by either official client. Both expose the same shape: `name` is the
 * class name, and a ResponseError carries `statusCode` and the engine's JSON `body`.
 */
export function toSearchRequestError(operation: string, error: unknown): SearchRequestError {
  if (error instanceof SearchRequestError) return error;
  const candidate = (typeof error === 'object' && error !== null ? error : {}) as {
    name?: unknown;
    message?: unknown;
    statusCode?: unknown;
    body?: unknown;
  };
  const body = candidate.body as { error?: EngineError | string } | undefined;
  const engineError = typeof body?.error === 'object' ? body.error : undefined;
  const reason = engineError?.reason ?? (typeof body?.error === 'string' ? body.error : undefined) ?? stringOrUndefined(candidate.message);
  return new SearchRequestError(
    {
      operation,
      statusCode: typeof candidate.statusCode === 'number' ? candidate.statusCode : undefined,
      errorType: engineError?.type,
      reason: reason ?? undefined,
      clientError: stringOrUndefined(candidate.name) ?? 'Error',
    },
    { cause: error },
  );
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Runs a client call and rethrows its failure as a SearchRequestError. */
export async function request<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toSearchRequestError(operation, error);
  }
}
