/**
 * Who may write a run, and when a run may change hands. A run belongs to one execution at a time
 * (its `execution_name`); every write of a step names its execution and is refused when the run
 * moved on, so an execution that lost the run (a takeover, a reconciliation, a stop from outside)
 * cannot write after it. Pure: the stores check these under the run's row lock and then write.
 */
import { RunStateError, TransientConflictError } from './errors.ts';
import { ACTIVE_PIPELINE_STATUSES, type PipelineStatus, type RunStatus } from './pipeline.ts';
import type { BatchProgress, TakeOver } from './state-ports.ts';
import type { Cursor } from './keyset.ts';

export type FinishedRunStatus = Exclude<RunStatus, 'RUNNING'>;

/** A run as the ownership rules see it. */
export interface OwnedRunFacts {
  id: string;
  pipelineId: string;
  status: RunStatus;
  executionName: string | null;
}

/** The pipeline's active run when a request re-checks a takeover. */
export interface ActiveRunFacts {
  id: string;
  status: RunStatus;
  executionName: string | null;
  /** Seconds since the run last showed life (see idleSeconds). */
  idleSeconds: number;
}

/**
 * Seconds since a run last showed life: its heartbeat, else its request. `now` and the run's
 * times come from one clock (the database's), so callers' clock skew cannot make a run stale.
 */
export function idleSeconds(now: Date, run: { heartbeatAt: Date | null; requestedAt: Date }): number {
  return (now.getTime() - (run.heartbeatAt ?? run.requestedAt).getTime()) / 1000;
}

/**
 * Re-checks, under the row locks, a takeover decided from an earlier read: the same run still
 * belongs to the same (dead) execution and, for a heartbeat-based decision, is still idle. A
 * concurrent takeover renamed the owner, and a live owner moved the heartbeat: both refuse it.
 */
export function stillStale(takeOver: TakeOver, active: ActiveRunFacts | null): boolean {
  if (!active) return takeOver.runId === null;
  if (active.id !== takeOver.runId || active.executionName !== takeOver.executionName) return false;
  return takeOver.minIdleSeconds === null || active.idleSeconds >= takeOver.minIdleSeconds;
}

/**
 * An execution started without run_id (console, CLI, a schedule) and its pipeline's active run.
 * A retried StartRun of the execution that already adopted the run finds it its own and claims it
 * again; any other active run must first be reconciled and judged stale before a run request
 * (the same one as POST /run) may replace it.
 */
export function decideAdoption(activeRun: { id: string; execution_name: string | null } | null, executionName: string): { action: 'claim-own'; runId: string } | { action: 'request'; reconcileFirst: boolean } {
  if (activeRun && activeRun.execution_name === executionName) return { action: 'claim-own', runId: activeRun.id };
  return { action: 'request', reconcileFirst: activeRun !== null };
}

const owner = (run: OwnedRunFacts) => run.executionName ?? '(none)';

/** An execution's claim of a run (StartRun): the run is its pipeline's, still active, and its own. */
export function assertClaimable(run: OwnedRunFacts, pipelineId: string, executionName: string | null): void {
  if (run.pipelineId !== pipelineId) throw new RunStateError(`run ${run.id} does not belong to pipeline ${pipelineId}`);
  if (run.status !== 'RUNNING' && run.status !== 'PAUSED') throw new RunStateError(`run ${run.id} is ${run.status} and cannot be started`);
  if (run.executionName !== executionName) throw new RunStateError(`run ${run.id} belongs to execution ${owner(run)}, not ${executionName ?? '(unnamed)'}`);
}

/**
 * The start of a batch attempt: only the owner of a RUNNING run. An attempt at the batch already
 * attempted (the batch after the last committed one) is a retry.
 */
export function batchAttempt(run: OwnedRunFacts & { batches: number; attemptedBatch: number }, executionName: string | null): { retry: boolean } {
  if (run.status !== 'RUNNING') throw new RunStateError(`run ${run.id} is ${run.status}`);
  if (run.executionName !== executionName) throw new RunStateError(`run ${run.id} belongs to execution ${owner(run)}`);
  return { retry: run.attemptedBatch === run.batches + 1 };
}

const sameCursor = (a: Cursor | null, b: Cursor | null) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Why a cursor advance is refused, or null when it may commit: the run is RUNNING, its cursor is
 * still where the batch started, and (when the progress names one) it belongs to that execution.
 * The owner's own orphaned attempt (a RunBatch that outlived its TimeoutSeconds and committed
 * while the state machine's retry ran) moved the cursor: retryable, the retry reads on from the
 * new cursor. Anything else is a run this execution no longer holds: permanent, and the batch's
 * transaction rolls back with the refusal.
 */
export function advanceRefusal(run: (OwnedRunFacts & { cursor: Cursor | null }) | null, progress: BatchProgress): Error | null {
  if (!run) return new RunStateError(`run ${progress.runId} does not exist`);
  if (run.status !== 'RUNNING') return new RunStateError(`run ${progress.runId} is ${run.status}; this batch is not committed`);
  if (progress.executionName !== undefined && run.executionName !== progress.executionName) {
    return new RunStateError(`run ${progress.runId} belongs to execution ${owner(run)}, not ${progress.executionName ?? '(none)'}; this batch is not committed`);
  }
  if (!sameCursor(run.cursor, progress.from)) {
    return new TransientConflictError(`run ${progress.runId} moved on while this batch ran (another attempt committed it first); read again from the new cursor`);
  }
  return null;
}

/**
 * Reconciliation finishes a run only if it is as it was read: same status, pipeline still active.
 */
export interface UnchangedSince {
  runStatus: RunStatus;
}

/**
 * A finishing transition (CompleteRun, PauseRun, FailRun, reconciliation). Only the owner finishes
 * a run, and only a RUNNING one; a PAUSED run can fail too: its resuming execution failed before
 * claiming it (or could not be started), and the pipeline must not stay RUN_REQUESTED behind it.
 * The pipeline takes the run's new status.
 */
export function finishTransition(
  run: OwnedRunFacts,
  pipelineStatus: PipelineStatus,
  executionName: string | null,
  to: FinishedRunStatus,
  unchanged?: UnchangedSince,
): { runStatus: FinishedRunStatus; pipelineStatus: PipelineStatus; finished: boolean } {
  if (run.executionName !== executionName) throw new RunStateError(`run ${run.id} belongs to execution ${owner(run)}`);
  if (unchanged && (run.status !== unchanged.runStatus || !ACTIVE_PIPELINE_STATUSES.includes(pipelineStatus))) {
    throw new RunStateError(`run ${run.id} moved on (run ${run.status}, pipeline ${pipelineStatus}) since it was read`);
  }
  if (!(run.status === 'RUNNING' || (run.status === 'PAUSED' && to === 'FAILED'))) throw new RunStateError(`run ${run.id} is not running`);
  // A paused run is not over: it keeps no finish time, and the next run request resumes it.
  return { runStatus: to, pipelineStatus: to, finished: to !== 'PAUSED' };
}

/** ContinueAsNew: a RUNNING run passes from its owner to the next execution; idempotent once passed. */
export function assertHandOver(run: OwnedRunFacts | null, runId: string, fromExecution: string, toExecution: string): void {
  const owned = run !== null && run.status === 'RUNNING' && (run.executionName === fromExecution || run.executionName === toExecution);
  if (!owned) throw new RunStateError(`run ${runId} is not running under execution ${fromExecution}`);
}
