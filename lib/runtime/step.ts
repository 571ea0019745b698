/**
 * The middy preset of state machine task handlers. Errors propagate as thrown (their `name` is
 * what the definition's Retry/Catch match); the step itself has no retry loop.
 */
import middy from '@middy/core';
import type { StepInput } from '../core/use-cases/run-steps.ts';

export function stepHandler<T>(work: (input: StepInput) => Promise<T>) {
  return middy<StepInput, T>().handler(async (event) => await work(event));
}
