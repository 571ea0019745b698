/**
 * The reconciliation rule: the platform's record never contradicts Step Functions. Given an active
 * pipeline's run and what Step Functions says about the execution that owns it, decide whether
 * the run must be failed (the execution ended, or was never started) or left alone. Pure: the
 * use-case (use-cases/reconcile-runs.ts) asks Step Functions and the store applies the decision.
 */
import { ACTIVE_PIPELINE_STATUSES, type PipelineStatus, type RunStatus } from './pipeline.ts';
import type { ExecutionStatus } from './ports.ts';

/** Pipeline statuses in which an execution is expected to be working on the run. */
export { ACTIVE_PIPELINE_STATUSES };

/**
 * How long a run request may take to start its execution (the HTTP function's 25 s timeout, with
 * a margin): until then an owner Step Functions does not know yet may still be being started.
 */
export const DEFAULT_START_GRACE_SECONDS = 60;

export interface ExecutionReport {
  status: ExecutionStatus;
  /** The execution's error and cause as Step Functions reports them (set when it failed). */
  error?: string | null | undefined;
  cause?: string | null | undefined;
}

export interface ReconcileInput {
  pipelineStatus: PipelineStatus;
  run: {
    status: RunStatus;
    /** The execution that owns the run (the one expected to move it on). */
    executionName: string | null;
    /** The owner's start was confirmed (its ARN is recorded): Step Functions has known it. */
    startConfirmed: boolean;
    /** Seconds since the run last showed life (heartbeat, else request). */
    idleSeconds: number;
  };
  /** What Step Functions says about the owner; null when it could not be asked. */
  execution: ExecutionReport | null;
  startGraceSeconds: number;
}

export type ReconcileDecision = { action: 'keep'; reason: string } | { action: 'fail'; error: { name: string; message: string } };

const ENDED: readonly ExecutionStatus[] = ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'];

export function decideReconciliation({ pipelineStatus, run, execution, startGraceSeconds }: ReconcileInput): ReconcileDecision {
  if (!ACTIVE_PIPELINE_STATUSES.includes(pipelineStatus)) return { action: 'keep', reason: `pipeline is ${pipelineStatus}` };
  if (run.status !== 'RUNNING' && run.status !== 'PAUSED') return { action: 'keep', reason: `run is ${run.status}` };
  if (!run.executionName) return { action: 'keep', reason: 'the run has no owning execution to ask about' };
  if (!execution) return { action: 'keep', reason: 'Step Functions could not be asked' };
  const owner = run.executionName;
  if (execution.status === 'RUNNING') return { action: 'keep', reason: `execution ${owner} is running` };
  if (execution.status === 'NOT_FOUND') {
    // Unknown to Step Functions: never started (a request that died before or during
    // StartExecution), or forgotten (a restarted local endpoint). A start still in flight is
    // unknown too, for at most the grace period after the request.
    if (!run.startConfirmed && run.idleSeconds < startGraceSeconds) return { action: 'keep', reason: `execution ${owner} may still be starting` };
    const message = run.startConfirmed
      ? `execution ${owner} is unknown to Step Functions (it no longer exists)`
      : `execution ${owner} was never started (no execution after ${Math.round(run.idleSeconds)} s)`;
    return { action: 'fail', error: { name: 'ExecutionNotFound', message } };
  }
  if (ENDED.includes(execution.status)) {
    const name = execution.error || (execution.status === 'SUCCEEDED' ? 'ExecutionEndedEarly' : `Execution${pascal(execution.status)}`);
    const detail = execution.cause || (execution.status === 'SUCCEEDED' ? 'it succeeded without finishing the run' : 'no cause given');
    return { action: 'fail', error: { name, message: `execution ${owner} ended ${execution.status}: ${detail}` } };
  }
  return { action: 'keep', reason: `execution ${owner} is ${String(execution.status)}` };
}

const pascal = (status: string) => status.toLowerCase().replace(/(^|_)([a-z])/g, (_, __: string, c: string) => c.toUpperCase());
