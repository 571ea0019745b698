/**
 * The steps that end an execution's part of a run: CompleteRun, PauseRun, FailRun (the error the
 * state machine caught, recorded on the run) and ContinueAsNew (the run handed to a fresh execution).
 */
import type { LoopState, RunStepsDeps, StepContext, StepInput } from './step-context.ts';
import { loopState, missing } from './step-context.ts';
import { executionNameFor } from './request-runs.ts';

export function createFinishRun({ store, executions, logger }: RunStepsDeps, { sinkFor }: StepContext) {
  return {
    async completeRun(input: StepInput): Promise<LoopState> {
      const state = loopState(input);
      const pipeline = (await store.getPipeline(state.pipeline_id)) ?? missing(state.pipeline_id);
      const finished = await sinkFor(pipeline, state.run_id).finishRun?.();
      const run = await store.completeRun(state.run_id, input.execution_name, { rowsDeleted: finished?.deleted ?? 0 });
      logger.info('run succeeded', { pipeline_id: state.pipeline_id, run_id: run.id, rows_read: run.rows_read, rows_written: run.rows_written, rows_deleted: run.rows_deleted, batches: run.batches, retries: run.retries });
      return state;
    },

    async pauseRun(input: StepInput): Promise<LoopState> {
      const state = loopState(input);
      const run = await store.pauseRun(state.run_id, input.execution_name);
      logger.info('run paused', { pipeline_id: state.pipeline_id, run_id: run.id, cursor: run.cursor });
      return state;
    },

    /** Records the error caught by the state machine on the run (the execution then fails). */
    async failRun(input: StepInput): Promise<Record<string, unknown>> {
      const { pipeline_id, run_id, error } = input.state as { pipeline_id?: string; run_id?: string; error?: { Error?: string; Cause?: string } };
      // Bounded: a run record is shown by the API, whose answers must stay small.
      const failure = { name: (error?.Error ?? 'UnknownError').slice(0, 200), message: causeMessage(error?.Cause).slice(0, 8_000) };
      if (typeof run_id !== 'string') {
        logger.error('execution failed before a run was claimed', { pipeline_id, execution: input.execution_name, error: failure });
        return { ...input.state, recorded: false };
      }
      await store.failRun(run_id, input.execution_name, failure);
      logger.error('run failed', { pipeline_id, run_id, error: failure });
      return { ...input.state, recorded: true };
    },

    /** Hands the run to a fresh execution, so no execution's history grows without bound. */
    async continueAsNew(input: StepInput): Promise<LoopState> {
      const state = loopState(input);
      const run = (await store.getRun(state.pipeline_id, state.run_id)) ?? missing(state.run_id);
      const next = executionNameFor(run.id, run.executions + 1);
      await store.handOver(run.id, input.execution_name, next);
      const { executionArn } = await executions.start(next, { pipeline_id: state.pipeline_id, run_id: run.id, continued: true });
      // Recorded now rather than at the next claim, so the stale-run rule can ask about the new owner.
      await store.startedExecution(run.id, next, executionArn);
      logger.info('run continues as a new execution', { pipeline_id: state.pipeline_id, run_id: run.id, next_execution: executionArn, batches: run.batches });
      return state;
    },
  };
}

/** Lambda reports a Cause as JSON ({errorType, errorMessage, trace}); the local engine as text. */
function causeMessage(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // not JSON: the message itself
  }
  return cause;
}
