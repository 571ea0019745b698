/**
 * Reconciliation: keeps the run record in line with Step Functions. Once the execution owning an
 * active run has ended (FAILED, TIMED_OUT, ABORTED...) or was never started, the run and its
 * pipeline become FAILED with the execution's error and cause. Called on every read of a
 * pipeline, before every run or pause request, and by the execution status-change event
 * (functions/events/reconcile-execution.ts; locally the Step Functions endpoint's own event).
 * The decision is the pure rule of ../reconcile.ts; the store applies it only while the run is as
 * it was read (same owner, same status, pipeline still active), so a concurrent pause, finish or
 * takeover wins over a decision made from an earlier read.
 */
import { RunStateError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { ExecutionStarter, RunRecord, StateStore } from '../ports.ts';
import { ACTIVE_PIPELINE_STATUSES, DEFAULT_START_GRACE_SECONDS, decideReconciliation, type ExecutionReport } from '../reconcile.ts';

export interface ReconcileRunsDeps {
  store: StateStore;
  executions: ExecutionStarter;
  logger: Logger;
  /** See ../reconcile.ts; default 60. */
  startGraceSeconds?: number;
}

/** The "Step Functions Execution Status Change" event's detail (the fields read here). */
export interface ExecutionStatusChange {
  executionArn: string;
  name: string;
  status: string;
  error?: string | null;
  cause?: string | null;
  /** The execution input as JSON text: {"pipeline_id", "run_id"}. */
  input?: string | null;
}

export function createReconcileRuns({ store, executions, logger, startGraceSeconds = DEFAULT_START_GRACE_SECONDS }: ReconcileRunsDeps) {
  /** The owner's status, or null when Step Functions cannot be asked (the read goes on regardless). */
  async function describeOwner(run: RunRecord): Promise<ExecutionReport | null> {
    if (!executions.describe || !run.execution_name) return null;
    const recorded = run.execution_arn?.endsWith(`:${run.execution_name}`) ? run.execution_arn : undefined;
    const arn = recorded ?? executions.executionArn?.(run.execution_name);
    if (!arn) return null;
    try {
      return await executions.describe(arn);
    } catch (error) {
      logger.warn('could not describe the execution of an active run; not reconciled', { pipeline_id: run.pipeline_id, run_id: run.id, execution_arn: arn, error });
      return null;
    }
  }

  /** Applies the rule to the pipeline's active run, given what Step Functions says; true when the run was failed. */
  async function settle(pipelineId: string, execution: (run: RunRecord) => Promise<ExecutionReport | null>, onlyOwner?: string): Promise<boolean> {
    const active = await store.activeRun(pipelineId);
    if (!active?.run || (onlyOwner !== undefined && active.run.execution_name !== onlyOwner)) return false;
    const { run } = active;
    const decision = decideReconciliation({
      pipelineStatus: active.pipelineStatus,
      run: {
        status: run.status,
        executionName: run.execution_name,
        startConfirmed: Boolean(run.execution_name && run.execution_arn?.endsWith(`:${run.execution_name}`)),
        idleSeconds: active.idleSeconds,
      },
      execution: await execution(run),
      startGraceSeconds,
    });
    if (decision.action === 'keep') return false;
    try {
      await store.failUnchangedRun(run.id, run.execution_name, run.status, decision.error);
    } catch (error) {
      // The run changed hands or finished since it was read: whoever moved it is right.
      if (error instanceof RunStateError) return false;
      throw error;
    }
    logger.warn('run failed: its execution is no longer running', { pipeline_id: pipelineId, run_id: run.id, execution: run.execution_name, error: decision.error });
    return true;
  }

  return {
    /** Reconciles one pipeline's active run with Step Functions; true when it failed the run. */
    pipeline: (pipelineId: string) => settle(pipelineId, describeOwner),

    /** Reconciles every active pipeline among `pipelines`; true when any run was failed. */
    async pipelines(pipelines: readonly { id: string; status: string }[]): Promise<boolean> {
      let changed = false;
      for (const p of pipelines) {
        if ((ACTIVE_PIPELINE_STATUSES as readonly string[]).includes(p.status)) changed = (await settle(p.id, describeOwner)) || changed;
      }
      return changed;
    },

    /**
     * An execution's status changed (EventBridge in the cloud). Only the run that this execution
     * owns is considered; the event's own status, error and cause decide, without asking again.
     */
    async executionChanged(event: ExecutionStatusChange): Promise<boolean> {
      const pipelineId = pipelineOf(event.input);
      if (!pipelineId) {
        logger.warn('execution status change without a pipeline_id in its input; ignored', { execution_arn: event.executionArn });
        return false;
      }
      const report: ExecutionReport = { status: event.status as ExecutionReport['status'], error: event.error, cause: event.cause };
      return await settle(pipelineId, async () => report, event.name).catch((error: unknown) => {
        // A pipeline deleted since (NotFoundError) has nothing left to reconcile.
        if ((error as Error).name === 'NotFoundError') return false;
        throw error;
      });
    },
  };
}

function pipelineOf(input: string | null | undefined): string | undefined {
  try {
    const parsed = JSON.parse(input ?? '') as { pipeline_id?: unknown };
    return typeof parsed.pipeline_id === 'string' ? parsed.pipeline_id : undefined;
  } catch {
    return undefined;
  }
}

export type ReconcileRuns = ReturnType<typeof createReconcileRuns>;
