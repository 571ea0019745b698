/**
 * The search sink sends a batch's bulk requests two at a time: with a fake SearchClient whose
 * answers the test releases, it checks the bound, that the checkpoint advances only once every
 * request was answered, the deleted count summed over requests answered out of order, and that a
 * failure waits for the request still in flight and reports the earliest failed request.
 */
import { describe, expect, it } from 'vitest';
import { RejectedRowError } from '../../lib/core/errors.ts';
import { createSearchSink } from '../../lib/adapters/search/search-sink.ts';
import { gatedClient } from '../support/gated-search-client.ts';
import { FILM_TARGET as target, SINK_CONTEXT as context, filmRows } from '../support/search-fixtures.ts';

const rows = filmRows(['a', 'b', 'c', 'd', 'e', 'f']);
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('search sink: two bulk requests in flight per batch', () => {
  it('keeps at most two requests in flight and commits once, after all answered, with the deletes summed', async () => {
    const gate = gatedClient();
    const sink = createSearchSink(target, context, gate.client, { maxBulkActions: 2 });
    let committed: unknown = null;
    const written = sink.write(rows.slice(2), async (_tx, outcome) => void (committed = outcome), rows.slice(0, 2));
    await tick();
    expect(gate.pending.map((p) => p.ids)).toEqual([['a', 'b'], ['c', 'd']]);
    // Answered out of order: the second request first.
    gate.pending[1]!.answer(() => 201);
    await tick();
    expect(gate.pending.map((p) => p.ids)).toEqual([['a', 'b'], ['c', 'd'], ['e', 'f']]);
    gate.pending[2]!.answer(() => 201);
    await tick();
    expect(committed).toBeNull();
    gate.pending[0]!.answer(() => 200);
    await expect(written).resolves.toEqual({ written: 4, deleted: 2 });
    expect(committed).toEqual({ deleted: 2 });
    expect(gate.maxInFlight()).toBe(2);
  });

  it('on a rejected item waits for the other request, starts no more, reports the earliest failure and does not commit', async () => {
    const gate = gatedClient();
    const sink = createSearchSink(target, context, gate.client, { maxBulkActions: 2 });
    let commits = 0;
    const written = sink.write(rows, async () => void (commits += 1));
    const settled = written.then(
      () => 'resolved',
      (error: unknown) => error,
    );
    await tick();
    gate.pending[1]!.answer((id) => (id === 'c' ? 400 : 201));
    await tick();
    expect(gate.pending).toHaveLength(2); // no third request after a failure
    gate.pending[0]!.answer((id) => (id === 'a' ? 400 : 201));
    const error = await settled;
    expect(error).toBeInstanceOf(RejectedRowError);
    expect((error as Error).message).toContain('document film_id=a rejected by index film_dim');
    expect(commits).toBe(0);
  });
});
