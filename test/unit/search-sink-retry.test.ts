/**
 * The search sink's handling of bulk item results, with a fake SearchClient: a real node cannot
 * be made to throttle (429) or fail single items on demand. Everything that depends on the
 * engine's real behaviour is in test/integration/search-sink.test.ts.
 */
import { describe, expect, it, vi } from 'vitest';
import { classifyItem, classifyRequestError } from '../../lib/adapters/search/classify.ts';
import { backoffDelay, createSearchSink, DEFAULT_RETRY, type RetryEvent } from '../../lib/adapters/search/search-sink.ts';
import { SearchRequestError, type BulkItemResult, type BulkResult, type SearchClient } from '../../lib/adapters/search/search-client.ts';
import { FILM_TARGET as target, SINK_CONTEXT as context, fakeSearchClient, filmRows } from '../support/search-fixtures.ts';

type ItemAnswer = Omit<BulkItemResult, 'id'>;
/** Decides each item's answer from its _id and the number of the bulk call (1-based). */
type Script = (id: string, call: number) => ItemAnswer;

const OK: ItemAnswer = { status: 201, error: undefined };
const THROTTLED: ItemAnswer = { status: 429, error: { type: 'es_rejected_execution_exception', reason: 'rejected execution of coordinating operation' } };

function fakeClient(script: Script): SearchClient & { calls: string[][] } {
  const calls: string[][] = [];
  const client = fakeSearchClient(async (ndjson: string): Promise<BulkResult> => {
    const lines = ndjson.split('\n').filter((line) => line !== '');
    const ids = lines.filter((_, i) => i % 2 === 0).map((line) => (JSON.parse(line) as { index: { _id: string } }).index._id);
    calls.push(ids);
    const items = ids.map((id) => ({ id, ...script(id, calls.length) }));
    return { errors: items.some((item) => item.status >= 300), items };
  });
  return Object.assign(client, { calls });
}

const rows = filmRows(['a', 'b', 'c', 'd', 'e']);

function sinkWith(client: SearchClient, sleeps: number[], events: RetryEvent[] = []) {
  return createSearchSink(target, context, client, {
    retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 25 },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.999,
    onRetry: (event) => events.push(event),
  });
}

describe('search sink bulk item handling', () => {
  it('resubmits only the items answered 429, after a backoff, then commits once', async () => {
    const client = fakeClient((id, call) => (call === 1 && (id === 'b' || id === 'd') ? THROTTLED : OK));
    const sleeps: number[] = [];
    const events: RetryEvent[] = [];
    const commit = vi.fn(async () => undefined);

    await expect(sinkWith(client, sleeps, events).write(rows, commit)).resolves.toEqual({ written: 5, deleted: 0 });

    expect(client.calls).toEqual([['a', 'b', 'c', 'd', 'e'], ['b', 'd']]);
    expect(sleeps).toEqual([9]); // full jitter below the first ceiling (base 10 ms)
    expect(events).toEqual([{ index: 'film_dim', attempt: 1, retrying: 2, delayMs: 9, statuses: [429] }]);
    expect(commit).toHaveBeenCalledTimes(1);
    expect(commit).toHaveBeenCalledWith(null, { deleted: 0 });
  });

  it('retries 5xx items too, with growing capped delays, and succeeds on the last attempt', async () => {
    const client = fakeClient((id, call) => (id === 'c' && call < 3 ? { status: 503, error: { type: 'unavailable_shards_exception', reason: 'primary shard is not active' } } : OK));
    const sleeps: number[] = [];
    const commit = vi.fn(async () => undefined);

    await sinkWith(client, sleeps).write(rows, commit);

    expect(client.calls).toEqual([['a', 'b', 'c', 'd', 'e'], ['c'], ['c']]);
    expect(sleeps).toEqual([9, 19]);
    expect(commit).toHaveBeenCalledTimes(1);
  });

  it('throws SearchUnavailableError without committing when items are still throttled after the last attempt', async () => {
    const client = fakeClient((id) => (id === 'e' ? THROTTLED : OK));
    const sleeps: number[] = [];
    const commit = vi.fn(async () => undefined);

    const write = sinkWith(client, sleeps).write(rows, commit);

    await expect(write).rejects.toMatchObject({ name: 'SearchUnavailableError', retryable: true });
    await expect(write).rejects.toThrow(/1 document\(s\) still not accepted after 3 attempt\(s\), e\.g\. film_id=e: es_rejected_execution_exception/);
    expect(client.calls).toHaveLength(3);
    expect(sleeps).toEqual([9, 19]);
    expect(commit).not.toHaveBeenCalled();
  });

  it('fails at once with RejectedRowError naming the key when an item is refused, even if others were throttled', async () => {
    const client = fakeClient((id) =>
      id === 'b'
        ? { status: 400, error: { type: 'document_parsing_exception', reason: 'failed to parse field [rating] of type [float]', caused_by: { type: 'number_format_exception', reason: 'For input string: "x"' } } }
        : id === 'c'
          ? THROTTLED
          : OK,
    );
    const commit = vi.fn(async () => undefined);

    const write = sinkWith(client, []).write(rows, commit);

    await expect(write).rejects.toMatchObject({ name: 'RejectedRowError', retryable: false });
    await expect(write).rejects.toThrow(
      'document film_id=b rejected by index film_dim: document_parsing_exception: failed to parse field [rating] of type [float] (caused by number_format_exception: For input string: "x")',
    );
    expect(client.calls).toHaveLength(1); // no retry: the batch fails anyway
    expect(commit).not.toHaveBeenCalled();
  });

  it('treats a blocked or forbidden index as a configuration problem', async () => {
    const client = fakeClient(() => ({ status: 403, error: { type: 'cluster_block_exception', reason: 'index [film_dim] blocked by: [FORBIDDEN/8/index write (api)]' } }));

    await expect(sinkWith(client, []).write(rows, vi.fn())).rejects.toMatchObject({ name: 'InvalidDefinitionError' });
  });

  it('commits an empty batch without a request', async () => {
    const client = fakeClient(() => OK);
    const commit = vi.fn(async () => undefined);

    await expect(sinkWith(client, []).write([], commit)).resolves.toEqual({ written: 0, deleted: 0 });
    expect(client.calls).toEqual([]);
    expect(commit).toHaveBeenCalledTimes(1);
  });
});

describe('search error classification', () => {
  it.each([
    [200, 'acknowledged'],
    [201, 'acknowledged'],
    [429, 'retry'],
    [500, 'retry'],
    [502, 'retry'],
    [503, 'retry'],
    [504, 'retry'],
    [0, 'retry'],
    [400, 'rejected'],
    [409, 'rejected'],
    [413, 'rejected'],
    [401, 'configuration'],
    [403, 'configuration'],
    [404, 'configuration'],
  ])('a bulk item answered %i is %s', (status, outcome) => {
    expect(classifyItem({ status, id: 'x', error: undefined })).toBe(outcome);
  });

  const failure = (statusCode: number | undefined, clientError = 'ResponseError') =>
    new SearchRequestError({ operation: 'bulk', statusCode, errorType: undefined, reason: 'r', clientError });

  it.each([
    [failure(undefined, 'ConnectionError'), true, 'SearchUnavailableError'],
    [failure(undefined, 'TimeoutError'), true, 'SearchUnavailableError'],
    [failure(undefined, 'NoLivingConnectionsError'), true, 'SearchUnavailableError'],
    [failure(undefined, 'ProductNotSupportedError'), true, 'InvalidDefinitionError'],
    [failure(429), true, 'SearchUnavailableError'],
    [failure(502), true, 'SearchUnavailableError'],
    [failure(503), false, 'SearchUnavailableError'],
    [failure(401), true, 'InvalidDefinitionError'],
    [failure(403), false, 'InvalidDefinitionError'],
    [failure(404), true, 'InvalidDefinitionError'],
    [failure(400), true, 'RejectedRowError'],
    [failure(413), true, 'RejectedRowError'],
    [failure(400), false, 'InvalidDefinitionError'],
  ])('a failed request (%s, writing: %s) becomes %s', (error, writing, name) => {
    const classified = classifyRequestError(error, { subject: 'index film_dim', writing });
    expect(classified).toMatchObject({ name });
    expect(classified.cause).toBe(error);
  });

  it('passes programming errors through unchanged', () => {
    const bug = new TypeError('x is undefined');
    expect(classifyRequestError(bug, { subject: 's', writing: true })).toBe(bug);
  });

  it('draws full-jitter delays below an exponentially growing, capped ceiling', () => {
    const top = () => 0.999999;
    expect([1, 2, 3, 4, 5].map((attempt) => backoffDelay(attempt, DEFAULT_RETRY, top))).toEqual([199, 399, 799, 1599, 1999]);
    expect(backoffDelay(3, DEFAULT_RETRY, () => 0)).toBe(0);
  });
});
