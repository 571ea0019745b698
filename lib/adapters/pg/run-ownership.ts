/**
 * Who may write a run, and when a run may change hands: the pure parts of the state store's
 * ownership rules (see lib/core/use-cases/stale-runs.ts for the stale-run rule itself).
 */
import { RunStateError, TransientConflictError } from '../../core/errors.ts';
import type { BatchProgress, TakeOver } from '../../core/ports.ts';
import type { RunRow } from './state-rows.ts';

/** Seconds since a run last showed life, by the database's clock (no skew with the callers'). */
export const IDLE_SECONDS = `extract(epoch FROM now() - coalesce(heartbeat_at, requested_at))::float8`;

export type ActiveRunRow = RunRow & { idle_seconds: number };

/**
 * Re-checks, under the row locks, a takeover decided from an earlier read: the same run still
 * belongs to the same (dead) execution and, for a heartbeat-based decision, is still idle. A
 * concurrent takeover renamed the owner, and a live owner moved the heartbeat: both refuse it.
 */
export function stillStale(takeOver: TakeOver, active: ActiveRunRow | undefined): boolean {
  if (!active) return takeOver.runId === null;
  if (active.id !== takeOver.runId || active.execution_name !== takeOver.executionName) return false;
  return takeOver.minIdleSeconds === null || Number(active.idle_seconds) >= takeOver.minIdleSeconds;
}

/**
 * Why a cursor advance was refused, given the run as it is now. The owner's own orphaned attempt
 * (a RunBatch that outlived its TimeoutSeconds and committed while the state machine's retry ran)
 * moved the cursor: retryable, the retry reads on from the new cursor. Anything else is a run this
 * execution no longer holds: permanent, and the batch's transaction rolls back with the refusal.
 */
export function refusedAdvance(run: RunRow | undefined, progress: BatchProgress): Error {
  if (!run) return new RunStateError(`run ${progress.runId} does not exist`);
  if (run.status !== 'RUNNING') return new RunStateError(`run ${progress.runId} is ${run.status}; this batch is not committed`);
  if (progress.executionName !== undefined && run.execution_name !== progress.executionName) {
    return new RunStateError(`run ${progress.runId} belongs to execution ${run.execution_name ?? '(none)'}, not ${progress.executionName ?? '(none)'}; this batch is not committed`);
  }
  return new TransientConflictError(`run ${progress.runId} moved on while this batch ran (another attempt committed it first); read again from the new cursor`);
}
