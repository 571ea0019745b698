/**
 * StartRun: claims (or resumes, or continues) the run for its execution. An execution started
 * without run_id (console, CLI, a schedule) has its run requested through the same path as
 * POST /run (lib/core/run-lifecycle.ts), so it starts from the same cursor.
 */
import { ConflictError, InvalidDefinitionError, NotFoundError, RunStateError, isRetryable } from '../errors.ts';
import { decideAdoption } from '../run-ownership.ts';
import type { StateStore, TakeOver } from '../ports.ts';
import { createReconcileRuns } from './reconcile-runs.ts';
import { BUSY_STATUSES } from './schedule-ticks.ts';
import { DEFAULT_STALE_RUN_SECONDS, createStaleRuns } from './stale-runs.ts';
import type { LoopState, RunStepsDeps, StepContext, StepInput } from './step-context.ts';

export function createStartRun(deps: RunStepsDeps, { readerFor, sinkFor }: StepContext) {
  const { store, executions, logger } = deps;
  const reconcile = deps.reconcile ?? createReconcileRuns({ store, executions, logger });
  const staleRuns = createStaleRuns({ store, executions, logger, staleRunSeconds: deps.staleRunSeconds ?? DEFAULT_STALE_RUN_SECONDS });

  /**
   * An execution started outside the API (no run_id) adopts the pipeline's run. It may take over a
   * stale active run, as a run request would; while the active run's execution is alive, the claim
   * is refused. A retried StartRun of an execution that already adopted the run finds it its own.
   */
  async function adoption(pipelineId: string, executionName: string): Promise<{ runId: string | null; takeOver: TakeOver | null }> {
    try {
      const active = await store.activeRun(pipelineId);
      const decision = decideAdoption(active?.run ?? null, executionName);
      if (decision.action === 'claim-own') return { runId: decision.runId, takeOver: null };
      // Like a run request: a run whose execution ended is FAILED first, and this execution starts a new one.
      if (decision.reconcileFirst) await reconcile.pipeline(pipelineId);
      return { runId: null, takeOver: await staleRuns.check(pipelineId) };
    } catch (error) {
      // Domain errors never reach the state machine: for it, the run cannot start.
      if (error instanceof ConflictError || error instanceof NotFoundError) throw new RunStateError(error.message, { cause: error });
      throw error;
    }
  }

  /**
   * A schedule's tick that could not start a run: skipped while the pipeline is busy, else failed.
   * Recorded on the pipeline only; the execution then fails without touching any run (FailRun has
   * no run_id), so the active run it collided with carries on unharmed.
   */
  async function recordRefusedTick(pipelineId: string, scheduledAt: string, error: unknown): Promise<void> {
    try {
      const pipeline = await store.getPipeline(pipelineId);
      if (!pipeline?.schedule || !deps.ticks) return;
      const message = (error as Error).message;
      const outcome = BUSY_STATUSES.includes(pipeline.status) ? ('skipped_active' as const) : ('failed' as const);
      await deps.ticks.recordExecutionTick(pipelineId, pipeline.schedule, scheduledAt, { outcome, run_id: null, message });
      logger.info('schedule tick started nothing', { pipeline_id: pipelineId, scheduled_at: scheduledAt, outcome, reason: message });
    } catch (recordError) {
      logger.error('could not record a schedule tick', { pipeline_id: pipelineId, scheduled_at: scheduledAt, error: recordError });
    }
  }

  return {
    /**
     * Claims (or resumes, or continues) the run for this execution; prepares the sink. An execution
     * started by a schedule (`scheduled_at` in its input) never resumes a paused run, and its
     * outcome is recorded on the pipeline as the schedule's last tick.
     */
    async startRun(input: StepInput): Promise<LoopState> {
      const { pipeline_id, run_id, scheduled_at } = input.state;
      if (typeof pipeline_id !== 'string' || !pipeline_id) {
        throw new InvalidDefinitionError('execution input must be {"pipeline_id": "...", "run_id": "..." (optional)}');
      }
      const tickAt = typeof scheduled_at === 'string' && typeof run_id !== 'string' ? scheduled_at : null;
      let claimed: Awaited<ReturnType<StateStore['claimRun']>>;
      let takeOver: TakeOver | null = null;
      try {
        const adopted = typeof run_id === 'string' ? { runId: run_id, takeOver: null } : await adoption(pipeline_id, input.execution_name);
        takeOver = adopted.takeOver;
        claimed = await store.claimRun({
          pipelineId: pipeline_id,
          runId: adopted.runId,
          executionArn: input.execution_arn,
          executionName: input.execution_name,
          ...(takeOver ? { takeOver } : {}),
          ...(tickAt ? { resume: false } : {}),
        });
      } catch (error) {
        // A retryable error is retried by the state machine: the tick is not over yet.
        if (tickAt && !isRetryable(error)) await recordRefusedTick(pipeline_id, tickAt, error);
        throw error;
      }
      const { run, pipeline, firstStart } = claimed;
      if (tickAt && pipeline.schedule && deps.ticks) {
        await deps.ticks.recordExecutionTick(pipeline_id, pipeline.schedule, tickAt, { outcome: 'started', run_id: run.id, message: takeOver ? 'took over a stale run' : null });
      }
      if (takeOver) logger.warn('stale run taken over', { pipeline_id, run_id: run.id, reason: takeOver.reason, previous_execution: takeOver.executionName, execution: input.execution_name });
      const log = logger.child({ pipeline_id, run_id: run.id, execution: input.execution_name });
      if (pipeline.mode === 'incremental' && run.horizon === null) {
        const horizon = await readerFor(pipeline).horizon(pipeline.source.query, pipeline.source.incremental_key!);
        await store.setHorizon(run.id, horizon);
      }
      await sinkFor(pipeline, run.id).prepareRun?.({ fromStart: run.cursor === null });
      log.info(firstStart ? 'run started' : 'run resumed', { cursor: run.cursor, executions: run.executions });
      return { pipeline_id, run_id: run.id, batches_in_execution: 0, batches_per_execution: deps.batchesPerExecution, done: false, pause_requested: false };
    },

  };
}
