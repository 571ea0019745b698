/**
 * The rules of a run's start: what a run request does to a pipeline (refuse, take over its stale
 * run, resume its paused run, or create a run), where a new run starts reading (a failed full
 * run's cursor is inherited), and where a run's first claim puts its cursor (an incremental run
 * starts at the checkpoint). Pure: the stores load these facts under their row locks, in the
 * transaction that then writes the decision (lib/adapters/pg/run-creation.ts,
 * run-progress-store.ts), and the in-memory store of the use-case tests applies the same functions.
 *
 * One path creates runs: POST /run, a schedule's tick and an execution started from outside with
 * only `pipeline_id` all go through `decideRunRequest`, so all start from the same cursor.
 */
import { ConflictError } from './errors.ts';
import type { Cursor } from './keyset.ts';
import { ACTIVE_PIPELINE_STATUSES, type PipelineMode, type PipelineStatus } from './pipeline.ts';
import { stillStale, type ActiveRunFacts } from './run-ownership.ts';
import type { TakeOver } from './state-ports.ts';

/** An instant in microseconds since the epoch: the database's timestamps exactly (a Date rounds to milliseconds). */
export type Instant = number;

export interface RunRequestFacts {
  pipelineId: string;
  pipelineStatus: PipelineStatus;
  /** The pipeline's RUNNING or PAUSED run (at most one), or null. */
  activeRun: ActiveRunFacts | null;
  /** False for a schedule's tick: a PAUSED pipeline is not resumed. */
  resume: boolean;
  /** A takeover decided from an earlier read (stale-runs.ts), re-checked here. */
  takeOver: TakeOver | null;
}

export type RunRequestDecision =
  /** The store answers ConflictError with `message` (a run step turns it into RunStateError). */
  | { action: 'refuse'; message: string }
  /** The active run keeps its cursor and counters; a new execution resumes it. */
  | { action: 'take-over'; runId: string }
  | { action: 'resume'; runId: string }
  /** A new run, starting where `resumePoint` says. `takenOver`: it replaces an active pipeline's missing run. */
  | { action: 'create'; takenOver: boolean };

export function decideRunRequest({ pipelineId, pipelineStatus, activeRun, resume, takeOver }: RunRequestFacts): RunRequestDecision {
  const busy: RunRequestDecision = { action: 'refuse', message: `pipeline ${pipelineId} is already ${pipelineStatus}` };
  if (ACTIVE_PIPELINE_STATUSES.includes(pipelineStatus)) {
    if (!takeOver || !stillStale(takeOver, activeRun)) return busy;
    // stillStale with no active run: the pipeline was left active without one; a new run replaces it.
    return activeRun ? { action: 'take-over', runId: activeRun.id } : { action: 'create', takenOver: true };
  }
  if (pipelineStatus === 'PAUSED' && activeRun?.status === 'PAUSED') {
    if (!resume) return { action: 'refuse', message: `pipeline ${pipelineId} is PAUSED; only a run request resumes it, a schedule's tick does not` };
    return { action: 'resume', runId: activeRun.id };
  }
  return { action: 'create', takenOver: false };
}

/** What a request's outcome reports: whether the run existed before (resumed) and changed hands. */
export function requestOutcome(decision: Exclude<RunRequestDecision, { action: 'refuse' }>): { resumed: boolean; takenOver: boolean } {
  if (decision.action === 'take-over') return { resumed: true, takenOver: true };
  if (decision.action === 'resume') return { resumed: true, takenOver: false };
  return { resumed: decision.takenOver, takenOver: decision.takenOver };
}

/** A failed run whose read a new run may continue. */
export interface FailedRunFacts {
  id: string;
  cursor: Cursor;
  horizon: string | null;
  requestedAt: Instant;
}

export interface ResumePointFacts {
  mode: PipelineMode;
  /** The pipeline's last reset (or definition change that reads differently); null if never. */
  resetAt: Instant | null;
  /** When the latest SUCCEEDED run of the pipeline was requested; null if none. */
  lastSucceededAt: Instant | null;
  /** The latest FAILED run that committed at least one batch (has a cursor); null if none. */
  latestFailed: FailedRunFacts | null;
}

export interface ResumePoint {
  resumedFrom: string;
  cursor: Cursor;
  horizon: string | null;
}

/**
 * Where a new run starts: a full run carries on from the latest failed run's cursor, so committed
 * progress is not read again, unless a success or a reset came after that failure (a success read
 * everything since; a reset asks to read from the beginning). An incremental run starts from the
 * checkpoint instead (see `startCursor`), which a failed run has already moved.
 */
export function resumePoint({ mode, resetAt, lastSucceededAt, latestFailed }: ResumePointFacts): ResumePoint | null {
  if (mode !== 'full' || !latestFailed) return null;
  if (lastSucceededAt !== null && latestFailed.requestedAt <= lastSucceededAt) return null;
  if (resetAt !== null && latestFailed.requestedAt <= resetAt) return null;
  return { resumedFrom: latestFailed.id, cursor: latestFailed.cursor, horizon: latestFailed.horizon };
}

export interface CheckpointFacts {
  lastValue: string | null;
  lastId: string | null;
}

/**
 * The cursor a run reads from once claimed. The first claim of an incremental run starts at the
 * pipeline's checkpoint (read at that moment, so a run requested before another run's last commit
 * still starts after it); a checkpoint without an id is no position. Later claims (resume,
 * continuation, takeover of a started run) keep the run's own cursor.
 */
export function startCursor(run: { mode: PipelineMode; firstStart: boolean; cursor: Cursor | null }, checkpoint: CheckpointFacts | null): Cursor | null {
  if (!run.firstStart || run.mode !== 'incremental') return run.cursor;
  if (!checkpoint || checkpoint.lastId === null) return null;
  return [checkpoint.lastValue, checkpoint.lastId] as Cursor;
}

/** The pipeline's status once an execution claims its run: a pause asked for meanwhile is kept. */
export const claimedPipelineStatus = (status: PipelineStatus): PipelineStatus => (status === 'PAUSE_REQUESTED' ? 'PAUSE_REQUESTED' : 'RUNNING');

/** A pause request: only a pipeline whose run is under way may be asked to pause (ConflictError otherwise). */
export function pauseRequested(pipelineId: string, status: PipelineStatus): PipelineStatus {
  if (!ACTIVE_PIPELINE_STATUSES.includes(status)) throw new ConflictError(`pipeline ${pipelineId} is not running (status ${status})`);
  return 'PAUSE_REQUESTED';
}
