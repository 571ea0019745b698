/**
 * The bulk requests of one batch, at most `concurrency` in flight: the next request is built (and
 * its rows read) while the engine indexes the previous ones. After a failure no new request
 * starts; `settle` waits for every request started, so nothing of the batch is still in flight
 * when it fails, and throws the error of the earliest failed request, as if they had been sent
 * one at a time.
 */
import type { BulkAction } from './bulk-body.ts';

export interface BulkQueue {
  /** Starts a request as soon as fewer than `concurrency` are in flight; resolves once it has started (or was dropped after a failure). */
  push(chunk: BulkAction[]): Promise<void>;
  readonly failed: boolean;
  /** Waits for every request started; the documents their deletes removed, or the earliest failure. */
  settle(): Promise<number>;
}

/** `write` sends one request's actions until all are acknowledged and answers how many documents its deletes removed. */
export function bulkQueue(concurrency: number, write: (chunk: BulkAction[]) => Promise<number>): BulkQueue {
  const inFlight = new Set<Promise<void>>();
  const failures: Array<{ at: number; error: unknown }> = [];
  let started = 0;
  let deleted = 0;
  return {
    async push(chunk) {
      while (inFlight.size >= concurrency) await Promise.race(inFlight);
      if (failures.length > 0) return;
      const at = started++;
      const request: Promise<void> = write(chunk).then(
        (removed) => {
          deleted += removed;
          inFlight.delete(request);
        },
        (error: unknown) => {
          failures.push({ at, error });
          inFlight.delete(request);
        },
      );
      inFlight.add(request);
    },
    get failed() {
      return failures.length > 0;
    },
    async settle() {
      while (inFlight.size > 0) await Promise.all(inFlight);
      const first = failures.sort((a, b) => a.at - b.at)[0];
      if (first) throw first.error;
      return deleted;
    },
  };
}
