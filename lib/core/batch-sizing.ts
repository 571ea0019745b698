/**
 * Batch sizes. An explicit batch_size is used exactly. A pipeline without one ("auto") is sized
 * by time: each batch measures how long it took and the next page is scaled towards a target
 * duration, so a batch stays far below the task timeout (300 s) while per-batch overhead
 * (orchestration, one commit, ~5-15 ms) stays a small share of it. The size travels with the
 * run (etl.pipeline_runs.next_batch_size), so it survives retries, pauses and continue-as-new
 * without extra state machine transitions.
 */
import { MAX_BATCH_SIZE, type BatchSize } from './pipeline.ts';

export interface AutoSizing {
  /** The first page of a run. */
  initial: number;
  min: number;
  max: number;
  /** The duration a batch aims at. */
  targetMs: number;
  /** At most this factor larger than the previous batch: one fast page must not jump to max. */
  maxGrowth: number;
}

export const AUTO_SIZING: AutoSizing = Object.freeze({ initial: 5_000, min: 100, max: MAX_BATCH_SIZE, targetMs: 2_000, maxGrowth: 4 });

/**
 * Pages that move inside the databases (pushdown, COPY) never hold their rows in the step's
 * memory, so they start and may grow larger: fewer batches, less per-batch overhead, same ~2 s
 * target (20,000 rows in the database take ~0.1 s).
 */
export const DIRECT_AUTO_SIZING: AutoSizing = Object.freeze({ ...AUTO_SIZING, initial: 20_000, max: 200_000 });

/**
 * The size of the batch about to run. A retried auto-sized batch halves: a page too large for
 * the timeout (or for memory) would otherwise fail the same way on every attempt.
 */
export function batchLimit(configured: BatchSize, next: number | null, retry: boolean, sizing: AutoSizing = AUTO_SIZING): number {
  if (configured !== 'auto') return configured;
  const current = clamp(next ?? sizing.initial, sizing);
  return retry ? clamp(Math.floor(current / 2), sizing) : current;
}

/**
 * The size of the next batch from the one just measured; null for an explicit batch_size. A page
 * that came back short (the end of the source) says nothing about speed: the size is kept.
 */
export function nextBatchSize(configured: BatchSize, used: number, rows: number, elapsedMs: number, sizing: AutoSizing = AUTO_SIZING): number | null {
  if (configured !== 'auto') return null;
  if (rows < used || elapsedMs <= 0) return used;
  const scaled = Math.floor(used * (sizing.targetMs / elapsedMs));
  return clamp(Math.min(scaled, used * sizing.maxGrowth), sizing);
}

function clamp(size: number, sizing: AutoSizing): number {
  return Math.max(sizing.min, Math.min(sizing.max, Math.trunc(size)));
}
