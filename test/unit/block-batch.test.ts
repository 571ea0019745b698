/**
 * A batch read in blocks (lib/core/use-cases/block-batch.ts) over the real search sink and a fake
 * client whose bulk answers the test releases, and a fake reader that hands blocks over as the
 * port says: the next block is read while the previous block's request is in flight, the cursor
 * advances once, after every request was answered, and a failure is the one the read-then-write
 * order would report, with nothing left in flight and the cursor unmoved.
 */
import { describe, expect, it } from 'vitest';
import { createSearchSink } from '../../lib/adapters/search/search-sink.ts';
import { KeyIntegrityError, RejectedRowError, SourceQueryError } from '../../lib/core/errors.ts';
import type { Pipeline } from '../../lib/core/pipeline.ts';
import type { BatchProgress, ReadRequest, RowBlock, SourceReader } from '../../lib/core/ports.ts';
import { blockBatch, type ProgressOf } from '../../lib/core/use-cases/block-batch.ts';
import { gatedClient } from '../support/gated-search-client.ts';

const COLUMNS = ['film_id', 'title'];
const pipeline = {
  id: 'p1',
  mode: 'full',
  tasks: null,
  source: { query: 'SELECT film_id, title FROM films' },
  target: { type: 'elasticsearch', index: 'film_dim', id_field: 'film_id' },
} as unknown as Pipeline;
const request: ReadRequest = { query: pipeline.source.query, keyset: ['film_id'], after: null, below: null, limit: 6 };
const progress: ProgressOf = (rowsRead, rowsWritten, rowsDropped, to) => ({ rowsRead, rowsWritten, rowsDropped, to }) as unknown as BatchProgress;
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

/** Hands over `blocks` one by one (awaiting each, as the port says), logging each fetch; then fails with `failAtEnd`, if given. */
function fakeReader(blocks: string[][], failAtEnd?: Error) {
  const fetched: number[] = [];
  const reader: SourceReader = {
    readBatch: () => Promise.reject(new Error('not used')),
    horizon: () => Promise.reject(new Error('not used')),
    async readBlocks(_request, _blockRows, onBlock) {
      let offset = 0;
      for (const [k, ids] of blocks.entries()) {
        fetched.push(k);
        const block: RowBlock = { columns: COLUMNS, rows: ids.map((id) => [id, `film ${id}`, id]), offset };
        await onBlock(block);
        offset += ids.length;
      }
      if (failAtEnd) throw failAtEnd;
      return { rowsRead: offset, last: [blocks.at(-1)!.at(-1)!], done: true };
    },
  };
  return { reader, fetched };
}

function setUp(blocks: string[][], failAtEnd?: Error) {
  const gate = gatedClient();
  const sink = createSearchSink(pipeline.target as never, { runId: 'r1', pipelineId: 'p1', mode: 'full', ownRunIds: async () => [] }, gate.client, { maxBulkActions: 2 });
  const { reader, fetched } = fakeReader(blocks, failAtEnd);
  const advanced: BatchProgress[] = [];
  const batch = blockBatch(pipeline, reader, sink, { advance: async (_tx, p) => void advanced.push(p) })!;
  const settled = batch.run(request, progress).then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  return { gate, fetched, advanced, settled };
}

describe('a batch read in blocks', () => {
  it('reads the next block while the previous ones are in flight, and advances once, after every answer', async () => {
    const { gate, fetched, advanced, settled } = setUp([['a', 'b'], ['c', 'd'], ['e', 'f']]);
    await tick();
    // Two requests in flight (the sink's bound), the third block read and waiting for a free slot.
    expect(gate.pending.map((p) => p.ids)).toEqual([['a', 'b'], ['c', 'd']]);
    expect(fetched).toEqual([0, 1, 2]);
    gate.pending[0]!.answer(() => 201);
    await tick();
    expect(gate.pending).toHaveLength(3);
    gate.pending[2]!.answer(() => 201);
    await tick();
    expect(advanced).toEqual([]);
    gate.pending[1]!.answer(() => 201);
    expect(await settled).toEqual({ value: { rowsRead: 6, rowsWritten: 6, rowsDropped: 0, last: ['f'], done: true, path: 'blocks' } });
    expect(advanced).toEqual([{ rowsRead: 6, rowsWritten: 6, rowsDropped: 0, to: ['f'], rowsDeleted: 0 }]);
  });

  it('fails with the earliest failed request when the second block is refused, after the first was answered, without advancing', async () => {
    const { gate, advanced, settled } = setUp([['a', 'b'], ['c', 'd'], ['e', 'f']]);
    await tick();
    gate.pending[1]!.answer((id) => (id === 'd' ? 400 : 201));
    await tick();
    expect(gate.pending).toHaveLength(2); // nothing starts after a failure
    gate.pending[0]!.answer(() => 201);
    const { error } = (await settled) as { error: Error };
    expect(error).toBeInstanceOf(RejectedRowError);
    expect(error.message).toContain('document film_id=d rejected');
    expect(advanced).toEqual([]);
  });

  it('reports a repeated key of a later block over a refused request, as the read-then-write order would', async () => {
    const { gate, advanced, settled } = setUp([['a', 'b'], ['c', 'd'], ['e', 'b']]);
    await tick();
    gate.pending[0]!.answer(() => 400);
    gate.pending[1]!.answer(() => 201);
    const { error } = (await settled) as { error: Error };
    expect(error).toBeInstanceOf(KeyIntegrityError);
    expect(error.message).toContain('the key (film_id) = "b" more than once');
    expect(gate.pending).toHaveLength(2);
    expect(advanced).toEqual([]);
  });

  it('reports the read failing after some blocks were sent, once every request sent was answered', async () => {
    const { gate, advanced, settled } = setUp([['a', 'b']], new SourceQueryError('the statement failed'));
    await tick();
    let done = false;
    void settled.then(() => (done = true));
    await tick();
    expect(done).toBe(false); // still waiting for the request in flight
    gate.pending[0]!.answer(() => 201);
    expect(await settled).toEqual({ error: new SourceQueryError('the statement failed') });
    expect(advanced).toEqual([]);
  });

  it('is not taken when a transform needs row objects or a port cannot do it', () => {
    const gate = gatedClient();
    const sink = createSearchSink(pipeline.target as never, { runId: 'r1', pipelineId: 'p1', mode: 'full', ownRunIds: async () => [] }, gate.client);
    const { reader } = fakeReader([]);
    const store = { advance: async () => undefined };
    const withTransform = { ...pipeline, tasks: [{ type: 'transform', name: 't', transform: 'drop_where_null' }] } as unknown as Pipeline;
    expect(blockBatch(withTransform, reader, sink, store)).toBeNull();
    expect(blockBatch(pipeline, { ...reader, readBlocks: undefined }, sink, store)).toBeNull();
    expect(blockBatch(pipeline, reader, { write: (...args) => sink.write(...args) }, store)).toBeNull();
    expect(blockBatch(pipeline, reader, sink, store)).not.toBeNull();
  });
});
