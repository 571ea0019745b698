/**
 * A batch read in blocks and written while it is read: the sink writes block k while the reader
 * fetches block k+1 of the same statement, the rows staying arrays from the database to the
 * sink's output. Taken when nothing between reader and writer needs row objects (no transform
 * task) and both ports can do it; otherwise RunBatch reads the page, transforms it, then writes it.
 *
 * What a batch guarantees stays what it was: one statement on a read session, the key checks of
 * the reader and of the target (block-checks.ts), soft deletes, and a cursor that advances only
 * after every block was acknowledged. A failure reports what the read-then-write order would have
 * reported (the read's error, then the key and row checks of the whole batch, then the earliest
 * write); the blocks written before it are idempotent writes of rows the cursor has not passed.
 */
import { blockChecks } from '../block-checks.ts';
import type { Cursor } from '../keyset.ts';
import type { Pipeline } from '../pipeline.ts';
import type { BatchProgress, BlockWrite, ReadRequest, RowBlock, Sink, SourceReader, StateStore, WriteOutcome } from '../ports.ts';
import { plainPlan } from '../direct-path.ts';

/** Rows per block: about one bulk request of the search sink, so the first one leaves early. */
export const BLOCK_ROWS = 1000;

export type ProgressOf = (read: number, written: number, dropped: number, to: Cursor | null) => BatchProgress;

type Settled<T> = { ok: true; value: T } | { ok: false; error: Error };

const settle = <T>(promise: Promise<T>): Promise<Settled<T>> =>
  promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error: error as Error }),
  );

export interface BlockBatch {
  run(request: ReadRequest, progress: ProgressOf): Promise<{ rowsRead: number; rowsWritten: number; rowsDropped: number; last: Cursor | null; done: boolean; path: 'blocks' }>;
}

/** The block path for this pipeline, or null when it must read row objects. */
export function blockBatch(pipeline: Pipeline, reader: SourceReader, sink: Sink, store: Pick<StateStore, 'advance'>): BlockBatch | null {
  if (!reader.readBlocks || !sink.openBlockWrite || !plainPlan(pipeline)) return null;
  const flag = pipeline.source.deleted_flag;
  return {
    async run(request, progress) {
      const checks = blockChecks(pipeline.target, flag);
      let writer: BlockWrite | null = null;
      let rowError: Error | null = null;
      let rowsWritten = 0;
      const onBlock = async (block: RowBlock): Promise<void> => {
        const checked = checks.accept(block);
        if (!checked.ok || rowError !== null) return;
        writer ??= sink.openBlockWrite!(block.columns, flag === undefined ? [] : [flag]);
        if (writer.failed) return;
        try {
          await writer.add(block, checked.deletes);
          rowsWritten += checked.deletes ? checked.deletes.filter((deleted) => !deleted).length : block.rows.length;
        } catch (error) {
          rowError = error as Error;
        }
      };
      const read = await settle(reader.readBlocks!(request, BLOCK_ROWS, onBlock));
      // Every request started is awaited before anything is reported: nothing of the batch stays in flight.
      const written: Settled<WriteOutcome> = writer ? await settle((writer as BlockWrite).finish()) : { ok: true, value: { deleted: 0 } };
      if (!read.ok) throw read.error;
      const failure = checks.error() ?? rowError ?? (written.ok ? null : written.error);
      if (failure) throw failure;
      const { rowsRead, last, done } = read.value;
      if (rowsRead > 0) {
        const deleted = written.ok ? written.value.deleted : 0;
        await store.advance(null, { ...progress(rowsRead, rowsWritten, 0, last), rowsDeleted: deleted });
      }
      return { rowsRead, rowsWritten, rowsDropped: 0, last, done, path: 'blocks' };
    },
  };
}
