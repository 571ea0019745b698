/**
 * The search sink: the core's `Sink` over a SearchClient, the same logic for Elasticsearch and
 * OpenSearch.
 *
 * A batch is written as bulk `index` actions (full document replace) with `_id` = the row's key,
 * so a retried batch leaves exactly the same documents. Each document's `_version` still grows on
 * a rewrite: versions count writes, not changes, and avoiding that would cost a read or a script
 * per document. The checkpoint advances (`commitProgress`) only after every document of the batch
 * was acknowledged. Soft deletes are bulk `delete` actions by the same _id in the same requests;
 * a document already missing (404 on the item, no error) is not an error, so a replayed delete
 * changes nothing.
 *
 * delete_missing without alias_reload: each document carries the run that wrote it in the keyword
 * field `etl_run_id` (RUN_MARKER_FIELD); CompleteRun finds the documents marked by no run of this
 * read (the run and the failed runs whose cursor it inherited) and bulk-deletes them, a page at a
 * time. Search and bulk rather than _delete_by_query: that API lives in the reindex module, which
 * minimal nodes (the local search node) and Amazon OpenSearch Serverless do not have. Documents become searchable at the index's next refresh (1 s by default), not
 * when `write` returns: nothing here refreshes per batch, since that would slow bulk loading.
 */
import type { Row, Sink, SinkContext, TransactionHandle, WriteOutcome } from '../../core/ports.ts';
import type { SearchTarget } from '../../core/pipeline.ts';
import { SearchUnavailableError } from '../../core/errors.ts';
import { arrayActions } from './array-documents.ts';
import { buildActions, buildDeleteActions, bulkBody, chunkActions, type BulkAction } from './bulk-body.ts';
import { bulkQueue } from './bulk-queue.ts';
import { classifyItem, classifyRequestError, itemError, retriesExhausted, type ItemContext } from './classify.ts';
import { createIndexManager } from './index-manager.ts';
import type { BulkItemResult, SearchClient } from './search-client.ts';

export interface RetryPolicy {
  /** Bulk attempts per request, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface RetryEvent {
  index: string;
  attempt: number;
  retrying: number;
  delayMs: number;
  statuses: number[];
}

export interface SearchSinkOptions {
  /** Upper bound of one bulk request body; default 5 MiB. */
  maxBulkBytes?: number;
  /** Upper bound of actions in one bulk request; default 1000. */
  maxBulkActions?: number;
  /**
   * Bulk requests of one batch in flight at once; default 2: the sink builds and sends the next
   * request while the engine indexes the current one. Memory stays at two request bodies.
   */
  maxBulkConcurrency?: number;
  /**
   * Items answered 429/5xx are resubmitted alone after a full-jitter backoff, within the same
   * write: throttling of part of a request is routine under load, and replaying only those items
   * is far cheaper than failing the batch. Default 3 attempts, 200 ms base, 2 s cap.
   */
  retry?: Partial<RetryPolicy>;
  /** Mapping for index creation when the target gives none (e.g. seeds/mappings/film_dim.json). */
  mapping?: Record<string, unknown> | undefined;
  /** Observability hook, called before each in-write retry (the run's logger, a metric). */
  onRetry?: (event: RetryEvent) => void;
  /** Injected by tests. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface SearchSink extends Sink {
  /** The index this run writes to (the physical index during an alias reload). */
  readonly writeIndex: string;
  prepareRun(): Promise<void>;
  finishRun(): Promise<WriteOutcome>;
}

/** The field that marks a document with the run that last wrote it (delete_missing without alias_reload). */
export const RUN_MARKER_FIELD = 'etl_run_id';

export const DEFAULT_MAX_BULK_BYTES = 5 * 1024 * 1024;
export const DEFAULT_MAX_BULK_ACTIONS = 1000;
export const DEFAULT_MAX_BULK_CONCURRENCY = 2;
export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 200, maxDelayMs: 2_000 };

/** Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): uniform in [0, min(cap, base * 2^n)). */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createSearchSink(target: SearchTarget, context: SinkContext, client: SearchClient, options: SearchSinkOptions = {}): SearchSink {
  const plan = createIndexManager(client, target, context, target.mapping ?? options.mapping);
  const limits = { maxBytes: options.maxBulkBytes ?? DEFAULT_MAX_BULK_BYTES, maxActions: options.maxBulkActions ?? DEFAULT_MAX_BULK_ACTIONS };
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const concurrency = Math.max(1, options.maxBulkConcurrency ?? DEFAULT_MAX_BULK_CONCURRENCY);
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const itemContext: ItemContext = { index: plan.writeIndex, idField: target.id_field };
  const marking = target.delete_missing === true && !target.alias_reload;
  const guarded = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw classifyRequestError(error, { subject: `${what} on index ${plan.writeIndex}`, writing: false });
    }
  };

  const send = async (actions: BulkAction[]): Promise<BulkItemResult[]> => {
    try {
      const result = await client.bulk(bulkBody(actions));
      if (result.items.length !== actions.length) {
        throw new SearchUnavailableError(`index ${plan.writeIndex}: the bulk response has ${result.items.length} items for ${actions.length} actions`);
      }
      // Name items by the key that was sent: a response may omit _id for items it refused early.
      return result.items.map((item, i) => ({ ...item, id: item.id ?? actions[i]?.id }));
    } catch (error) {
      throw classifyRequestError(error, { subject: `bulk write to index ${plan.writeIndex}`, writing: true });
    }
  };

  /**
   * Sends one request's actions until all are acknowledged; throws on the first permanent item
   * error. Answers how many documents the deletes removed.
   */
  const writeChunk = async (chunk: BulkAction[]): Promise<number> => {
    let pending = chunk;
    let deleted = 0;
    for (let attempt = 1; ; attempt++) {
      const items = await send(pending);
      const retryActions: BulkAction[] = [];
      const retryItems: BulkItemResult[] = [];
      const refused = items.flatMap((item, i) => {
        const action = pending[i]!;
        // A delete of a missing document answers 404 with no error (an index that is missing has one).
        if (action.kind === 'delete' && item.status === 404 && !item.error) return [];
        const outcome = classifyItem(item);
        if (outcome === 'acknowledged' && action.kind === 'delete') deleted += 1;
        if (outcome === 'retry') {
          retryActions.push(action);
          retryItems.push(item);
        }
        return outcome === 'rejected' || outcome === 'configuration' ? [{ item, outcome }] : [];
      });
      const first = refused[0];
      if (first) throw itemError(first.item, first.outcome, itemContext, refused.length);
      if (retryActions.length === 0) return deleted;
      if (attempt >= policy.attempts) throw retriesExhausted(retryItems, attempt, itemContext);
      const delayMs = backoffDelay(attempt, policy, random);
      options.onRetry?.({ index: plan.writeIndex, attempt, retrying: retryActions.length, delayMs, statuses: [...new Set(retryItems.map((item) => item.status))] });
      await sleep(delayMs);
      pending = retryActions;
    }
  };

  /** Sends a batch's requests through one queue (bulk-queue.ts: at most `concurrency` in flight). */
  const writeChunks = async (chunks: BulkAction[][]): Promise<number> => {
    const queue = bulkQueue(concurrency, writeChunk);
    for (const chunk of chunks) {
      if (queue.failed) break;
      await queue.push(chunk);
    }
    return await queue.settle();
  };

  return {
    writeIndex: plan.writeIndex,
    async write(rows: Row[], commitProgress: (tx: TransactionHandle | null, outcome?: WriteOutcome) => Promise<void>, deletes: Row[] = []) {
      const marker = marking ? { field: RUN_MARKER_FIELD, value: context.runId } : undefined;
      const actions = [...buildDeleteActions(deletes, plan.writeIndex, target.id_field), ...buildActions(rows, plan.writeIndex, target.id_field, marker)];
      const deleted = await writeChunks(chunkActions(actions, limits));
      await commitProgress(null, { deleted });
      return { written: rows.length, deleted };
    },
    openBlockWrite(columns, omit) {
      const marker = marking ? { field: RUN_MARKER_FIELD, value: context.runId } : undefined;
      const actionsOf = arrayActions(columns, omit, plan.writeIndex, target.id_field, marker);
      const queue = bulkQueue(concurrency, writeChunk);
      return {
        async add(block, deletes) {
          for (const chunk of chunkActions(actionsOf(block, deletes), limits)) {
            if (queue.failed) return;
            await queue.push(chunk);
          }
        },
        get failed() {
          return queue.failed;
        },
        finish: async () => ({ deleted: await queue.settle() }),
      };
    },
    async prepareRun() {
      await plan.prepareRun();
      if (marking) await guarded('mapping', () => client.putMapping(plan.writeIndex, { [RUN_MARKER_FIELD]: { type: 'keyword' } }));
    },
    async finishRun() {
      await plan.finishRun();
      if (!marking) return { deleted: 0 };
      const runs = context.readRunIds ? await context.readRunIds() : [context.runId];
      const unmarked = { bool: { must_not: { terms: { [RUN_MARKER_FIELD]: runs } } } };
      let deleted = 0;
      for (;;) {
        // Refreshed first: a document rewritten by this run but not yet searchable would still show its old marker.
        await guarded('refresh', () => client.refresh(plan.writeIndex));
        const ids = await guarded('delete_missing search', () => client.findIds(plan.writeIndex, unmarked, limits.maxActions));
        if (ids.length === 0) break;
        let removed = 0;
        for (const chunk of chunkActions(buildDeleteActions(ids.map((id) => ({ [target.id_field]: id })), plan.writeIndex, target.id_field), limits)) removed += await writeChunk(chunk);
        // Found but not deleted (deleted meanwhile by someone else and not yet refreshed away): retry later rather than loop.
        if (removed === 0) throw new SearchUnavailableError(`index ${plan.writeIndex}: ${ids.length} documents to delete (delete_missing) were found but none could be deleted`);
        deleted += removed;
      }
      return { deleted };
    },
  };
}
