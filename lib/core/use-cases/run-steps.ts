/**
 * The state machine's task steps. The state machine owns the loop, the pause decision and the
 * retry policy; each step does the I/O of one transition and throws classified errors:
 * StartRun (start-run.ts), RunBatch (run-batch.ts), CompleteRun, PauseRun, FailRun and
 * ContinueAsNew (finish-run.ts).
 */
import { createFinishRun } from './finish-run.ts';
import { createRunBatch } from './run-batch.ts';
import { createStartRun } from './start-run.ts';
import { createStepContext, type RunStepsDeps } from './step-context.ts';

export type { LoopState, RunStepsDeps, StepInput } from './step-context.ts';

export function createRunSteps(deps: RunStepsDeps) {
  const context = createStepContext(deps);
  return { ...createStartRun(deps, context), ...createRunBatch(deps, context), ...createFinishRun(deps, context) };
}

export type RunSteps = ReturnType<typeof createRunSteps>;
