/**
 * What one RunBatch attempt did, for its metrics. The step's result (the loop state) carries no
 * row counts, and the use-case is not the place for metrics; the state store sees both ends of
 * an attempt: `beginBatchAttempt` knows whether it retries the batch (the count the run records
 * in `retries`), and `advance` receives the committed counts in the transaction that commits
 * them. Observing the store there gives the exact figures without another query.
 */
import type { BatchProgress, StateStore } from '../core/ports.ts';

export interface BatchFigures {
  /** This attempt repeats a batch an earlier attempt began and did not commit. */
  retry: boolean;
  /** Null until the batch's write and cursor advance are handed to the store (none for an empty last page). */
  committed: { rowsRead: number; rowsWritten: number; rowsDeleted: number } | null;
}

export interface BatchFigureRecorder {
  /** The store to give the use-cases: the same store, observed. */
  store: StateStore;
  /** The figures of the run's current attempt, forgotten once taken. */
  take(runId: string): BatchFigures | undefined;
}

/**
 * Keyed by run id: one execution owns a run at a time and runs one batch of it at a time, while
 * one process (the test harness, the local stack's API) may run batches of several runs at once.
 */
export function recordBatchFigures(store: StateStore): BatchFigureRecorder {
  const attempts = new Map<string, BatchFigures>();
  return {
    store: {
      ...store,
      async beginBatchAttempt(runId, executionName) {
        const begun = await store.beginBatchAttempt(runId, executionName);
        attempts.set(runId, { retry: begun.retry, committed: null });
        return begun;
      },
      async advance(tx, progress: BatchProgress) {
        await store.advance(tx, progress);
        const attempt = attempts.get(progress.runId);
        if (attempt) attempt.committed = { rowsRead: progress.rowsRead, rowsWritten: progress.rowsWritten, rowsDeleted: progress.rowsDeleted ?? 0 };
      },
    },
    take(runId) {
      const figures = attempts.get(runId);
      attempts.delete(runId);
      return figures;
    },
  };
}
