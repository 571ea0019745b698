/**
 * The run use-cases assembled over the in-memory fakes, as lib/runtime/engine.ts assembles them
 * over the adapters, and `drive`, which walks an execution through the steps the way the state
 * machine's definition does (StartRun, RunBatch until done or paused, CompleteRun or PauseRun;
 * FailRun when a step throws), without its retries: a use-case test decides what is retried.
 */
import { silentLogger } from '../../../lib/core/logger.ts';
import { createReconcileRuns } from '../../../lib/core/use-cases/reconcile-runs.ts';
import { createRequestRuns } from '../../../lib/core/use-cases/request-runs.ts';
import { createRunSteps, type LoopState } from '../../../lib/core/use-cases/run-steps.ts';
import { createStaleRuns } from '../../../lib/core/use-cases/stale-runs.ts';
import { createTransformCompiler } from '../../../lib/transforms/index.ts';
import { createFakeExecutions } from './execution-starter.ts';
import { createFakeTarget } from './sink.ts';
import { createFakeSource } from './source-reader.ts';
import { createFakeStateStore } from './state-store.ts';

export const STALE_RUN_SECONDS = 900;

export function createFakeEngine({ batchesPerExecution = 500 } = {}) {
  const store = createFakeStateStore();
  const executions = createFakeExecutions();
  const source = createFakeSource();
  const target = createFakeTarget();
  const logger = silentLogger;
  const reconcile = createReconcileRuns({ store, executions, logger });
  const runs = createRequestRuns({ store, executions, logger, staleRunSeconds: STALE_RUN_SECONDS, reconcile });
  const stale = createStaleRuns({ store, executions, logger, staleRunSeconds: STALE_RUN_SECONDS });
  const steps = createRunSteps({ store, readers: source, sinks: target, transforms: createTransformCompiler(), executions, logger, batchesPerExecution, staleRunSeconds: STALE_RUN_SECONDS, reconcile });

  /** Runs execution `name` (input as Step Functions would pass it) until it ends or pauses; returns its last state. */
  async function drive(name: string, input: Record<string, unknown>): Promise<{ state: LoopState | Record<string, unknown>; ended: 'completed' | 'paused' | 'failed' | 'continued' }> {
    const step = (state: Record<string, unknown>) => ({ state, execution_name: name, execution_arn: executions.executionArn!(name) });
    let state: LoopState | undefined;
    try {
      state = await steps.startRun(step(input));
      for (;;) {
        state = await steps.runBatch(step({ ...state }));
        if (state.done) return { state: await steps.completeRun(step({ ...state })), ended: 'completed' };
        if (state.pause_requested) return { state: await steps.pauseRun(step({ ...state })), ended: 'paused' };
        if (state.batches_in_execution >= state.batches_per_execution) return { state: await steps.continueAsNew(step({ ...state })), ended: 'continued' };
      }
    } catch (error) {
      const caught = { Error: (error as Error).name, Cause: JSON.stringify({ errorMessage: (error as Error).message }) };
      return { state: await steps.failRun(step({ ...(state ?? input), error: caught })), ended: 'failed' };
    }
  }

  /** Drives the execution a run request started (the last one). */
  async function driveLastStarted() {
    const { name, input } = executions.started.at(-1)!;
    return await drive(name, { ...input });
  }

  return { store, executions, source, target, reconcile, runs, stale, steps, drive, driveLastStarted };
}

export type FakeEngine = ReturnType<typeof createFakeEngine>;
