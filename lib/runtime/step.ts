/**
 * The middy presets of state machine task handlers. Errors propagate as thrown (their `name` is
 * what the definition's Retry/Catch match); the step itself has no retry loop. Every line a step
 * logs carries its invocation's context; RunBatch also flushes its batch's metrics.
 */
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context } from 'aws-lambda';
import type { BatchAttemptFigures } from '../core/use-cases/run-batch.ts';
import type { LoopState, StepInput } from '../core/use-cases/run-steps.ts';
import { addBatchMetrics } from './batch-metrics.ts';
import type { Engine } from './engine.ts';
import { observability as containerObservability } from './logger-instance.ts';
import { lambdaHandler, type Observability } from './observability.ts';

export function stepHandler<T>(work: (input: StepInput) => Promise<T>, observability: Observability = containerObservability) {
  return lambdaHandler<StepInput, T>(observability).handler(async (event) => await work(event));
}

/** RunBatch over an engine (built on first use by the Lambda wiring; given by the harness and the bench). */
export function runBatchHandler(engine: () => Pick<Engine, 'steps'>, observability: Observability = containerObservability) {
  const { metrics } = observability;
  const base = lambdaHandler<StepInput, LoopState>(observability);
  // Flushed after the handler returns or throws; off (no middleware, nothing buffered) where metrics
  // are disabled. One buffer per container is enough: a container runs one invocation at a time.
  if (metrics) base.use(logMetrics(metrics));
  return base.handler(async (input) => {
    const started = performance.now();
    const { pipeline_id: pipelineId, run_id: runId } = input.state ?? {};
    let figures: BatchAttemptFigures | undefined;
    let succeeded = false;
    try {
      const state = await engine().steps.runBatch(input, (reported) => (figures = reported));
      succeeded = true;
      return state;
    } finally {
      if (metrics) addBatchMetrics(metrics, { pipelineId, runId, figures, succeeded, durationMs: performance.now() - started });
    }
  });
}

export const STEP_KEYS = ['startRun', 'runBatch', 'completeRun', 'pauseRun', 'failRun', 'continueAsNew'] as const;
export type StepKey = (typeof STEP_KEYS)[number];
export type StepInvoker = (input: StepInput, context: Context) => Promise<unknown>;

/**
 * Every task's handler over one engine, as functions/steps/* assemble them: for the processes
 * that run the steps in-process (the test harness, the bench) with their own engine and settings.
 */
export function stepHandlers(engine: () => Engine, observability: Observability): Record<StepKey, StepInvoker> {
  const handlers = {} as Record<StepKey, StepInvoker>;
  for (const key of STEP_KEYS) {
    const handler = key === 'runBatch' ? runBatchHandler(engine, observability) : stepHandler<unknown>((input) => engine().steps[key](input), observability);
    handlers[key] = (input, context) => handler(input, context);
  }
  return handlers;
}
