/**
 * An in-memory target: rows upserted and deleted by key, then the progress committed, in the
 * order of the Sink contract (the cursor moves only after the write).
 */
import type { TargetDefinition } from '../../../lib/core/pipeline.ts';
import type { Row, Sink, SinkFactory } from '../../../lib/core/ports.ts';

export interface FakeTarget extends SinkFactory {
  /** The target's rows by key. */
  rows: Map<string, Row>;
  /** Runs prepared (StartRun) and finished (CompleteRun), by run id. */
  prepared: { runId: string; fromStart: boolean }[];
  finished: string[];
  /** The next write fails with `error` before anything is written. */
  failNextWrite(error: Error): void;
}

const keyColumns = (target: TargetDefinition) => (target.type === 'postgres' ? target.key : [target.id_field]);

export function createFakeTarget(): FakeTarget {
  const rows = new Map<string, Row>();
  const prepared: FakeTarget['prepared'] = [];
  const finished: string[] = [];
  let failure: Error | null = null;
  return {
    rows,
    prepared,
    finished,
    failNextWrite(error) {
      failure = error;
    },
    forTarget(target, context): Sink {
      const key = (row: Row) => keyColumns(target).map((column) => String(row[column] as string | number)).join('|');
      return {
        async write(upserts, commitProgress, deletes = []) {
          if (failure) {
            const error = failure;
            failure = null;
            throw error;
          }
          for (const row of upserts) rows.set(key(row), row);
          const deleted = deletes.filter((row) => rows.delete(key(row))).length;
          await commitProgress(null, { deleted });
          return { written: upserts.length, deleted };
        },
        async prepareRun({ fromStart }) {
          prepared.push({ runId: context.runId, fromStart });
          await Promise.resolve();
        },
        async finishRun() {
          finished.push(context.runId);
          return await Promise.resolve({ deleted: 0 });
        },
      };
    },
  };
}
